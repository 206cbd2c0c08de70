"""The best award of a request for quotation, solved exactly with OR-Tools CP-SAT.

The model: ``x[p, s] = 1`` gives product ``p`` to supplier ``s`` (only where ``s`` quotes ``p``
eligibly), ``y[s] = 1`` when ``s`` is awarded anything. Each awardable product goes to exactly one
supplier; ``x[p, s] <= y[s] <= Σ_p x[p, s]``. The preference is lexicographic:

1. least ``Σ amount × x + Σ fee × y`` (integer satang), then
2. fewest suppliers: both in one objective, ``cost × (S + 1) + Σ y`` with ``S`` the number of
   suppliers, which is exact because ``Σ y ≤ S``;
3. the smaller supplier ids taken in product-id order. With the optimum of 1-2 fixed, an optimal
   award is determined by its set of suppliers ``U`` up to ties in amount inside ``U`` (each
   supplier of ``U`` is the only cheapest one in ``U`` for some product, else dropping it would
   cost no more with fewer suppliers), and those ties go to the smaller id. So: if no other ``U``
   reaches the optimum (one more solve) the award is final; otherwise each product in id order
   in turn is given the smallest supplier id that still allows the optimum, and fixed.

Every solve must end OPTIMAL (or INFEASIBLE where that is the answer); anything else raises
:class:`NotProven`, so an award is never a guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from pricing.quotes import Award, Priced, award_of, awardable


class NotProven(RuntimeError):
    """The solver stopped (time limit) before proving the answer."""


@dataclass(frozen=True)
class Solved:
    award: Award
    status: str  # "OPTIMAL"
    wall_seconds: float
    solves: int


Status = cp_model.CpSolverStatus


class _Model:
    def __init__(self, priced: Priced, products: list[int]) -> None:
        self.priced = priced
        self.products = products
        self.cands = {p: _undominated(priced, p) for p in products}
        self.suppliers = sorted({s for p in products for s in self.cands[p]})
        self.model = cp_model.CpModel()
        m = self.model
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self.y = {s: m.new_bool_var(f"y{s}") for s in self.suppliers}
        for p in products:
            row = []
            for s in self.cands[p]:
                v = m.new_bool_var(f"x{p}_{s}")
                self.x[p, s] = v
                m.add_implication(v, self.y[s])
                row.append(v)
            m.add_exactly_one(row)
        for s in self.suppliers:
            m.add(self.y[s] <= cp_model.LinearExpr.sum([v for (_, t), v in self.x.items() if t == s]))
        terms = [(v, priced.amount_satang(p, s)) for (p, s), v in self.x.items()]
        terms += [(self.y[s], priced.fees[s]) for s in self.suppliers]
        self.cost = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
        self.count = cp_model.LinearExpr.sum(list(self.y.values()))
        self.solves = 0
        self.seconds = 0.0

    def solve(self, time_limit: float, workers: int) -> tuple[Status, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        solver.parameters.num_workers = workers
        # The LP of the strong formulation (x <= y per pair) is nearly integral for this kind of
        # problem; CP-SAT's default keeps only an aggregated form and searches 10-100x longer.
        solver.parameters.linearization_level = 2
        solver.parameters.add_lp_constraints_lazily = False
        # Measured on bench/rfq_bench.py: the generic cuts and probing cost more than they prune here.
        solver.parameters.cut_level = 0
        solver.parameters.cp_model_probing_level = 0
        # Determinism of the final answer comes from the tie rule, not from the search order.
        status = solver.solve(self.model)
        self.solves += 1
        self.seconds += solver.wall_time
        return status, solver

    def hint(self, solver: cp_model.CpSolver) -> None:
        self.model.model_proto.clear_solution_hint()
        for v in list(self.x.values()) + list(self.y.values()):
            self.model.add_hint(v, solver.boolean_value(v))

    def chosen(self, solver: cp_model.CpSolver) -> dict[int, int]:
        return {p: s for (p, s), v in self.x.items() if solver.boolean_value(v)}


def _undominated(priced: Priced, product_id: int) -> list[int]:
    """Suppliers of a product that an optimal award may use, in id order.

    Giving the product to ``s`` can never be optimal when another supplier ``t`` quotes it for
    ``amount_t + fee_t < amount_s``: moving it to ``t`` lowers the cost even if ``t`` was unused.
    The supplier with the least ``amount + fee`` always stays.
    """
    lines = priced.eligible(product_id)
    amount = {s: priced.amount_satang(product_id, s) for s in lines}
    floor = min(amount[s] + priced.fees[s] for s in lines)
    return sorted(s for s in lines if amount[s] <= floor)


def _require(status: Status, *allowed: Status) -> None:
    if status not in allowed:
        raise NotProven(f"the solver stopped with status {status.name}")


def _ties_to_smaller_ids(priced: Priced, chosen: dict[int, int]) -> dict[int, int]:
    used = set(chosen.values())
    out: dict[int, int] = {}
    for p, s in chosen.items():
        amount = priced.amount_satang(p, s)
        out[p] = min(t for t in priced.eligible(p) if t in used and priced.amount_satang(p, t) == amount)
    return out


def solve_best_award(priced: Priced, *, time_limit: float = 30.0, workers: int = 1) -> Solved:
    """The best award, proven optimal within ``time_limit`` seconds in all (else :class:`NotProven`)."""
    started = time.perf_counter()
    products = awardable(priced)
    if not products:
        return Solved(award_of(priced, {}), "OPTIMAL", 0.0, 0)
    award_model = _Model(priced, products)
    deadline = started + time_limit

    def left() -> float:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise NotProven("the time limit was reached")
        return remaining

    base = award_model.cost * (len(award_model.suppliers) + 1) + award_model.count
    award_model.model.minimize(base)
    status, solver = award_model.solve(left(), workers)
    _require(status, cp_model.OPTIMAL)
    best = round(solver.objective_value)
    chosen = award_model.chosen(solver)
    used = set(chosen.values())

    # Does another set of suppliers reach the optimum? (Solved as an optimisation, so that the LP
    # bound prunes; a bare feasibility problem with the cost fixed is a hard knapsack equality.)
    another = award_model.model.new_bool_var("another_supplier_set")
    differs = [award_model.y[s] for s in award_model.suppliers if s not in used] + [~award_model.y[s] for s in used]
    award_model.model.add_bool_or(differs).only_enforce_if(another)
    award_model.model.add_assumption(another)
    award_model.model.add(base <= best)  # only optimal awards are of interest from here on
    award_model.hint(solver)
    status, other = award_model.solve(left(), workers)
    _require(status, cp_model.OPTIMAL, cp_model.INFEASIBLE)
    award_model.model.clear_assumptions()
    if status == cp_model.OPTIMAL and round(other.objective_value) == best:
        # Several supplier sets tie: give each product in id order the smallest id that keeps the optimum.
        for p in products:
            candidates = award_model.cands[p]
            if len(candidates) > 1 and chosen[p] != candidates[0]:
                rank = cp_model.LinearExpr.weighted_sum([award_model.x[p, s] for s in candidates], list(range(len(candidates))))
                award_model.model.minimize(base * len(candidates) + rank)
                status, solver = award_model.solve(left(), workers)
                _require(status, cp_model.OPTIMAL)
                if round(solver.value(base)) != best:
                    raise NotProven("a tie-break solve lost the optimum")  # cannot happen; never guess
                chosen = award_model.chosen(solver)
                award_model.hint(solver)
            award_model.model.add(award_model.x[p, chosen[p]] == 1)
    award = award_of(priced, _ties_to_smaller_ids(priced, chosen))
    return Solved(award, "OPTIMAL", time.perf_counter() - started, award_model.solves)
