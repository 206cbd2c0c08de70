"""Solve the best award of generated requests for quotation and print each time beside a floor.

    python -m bench rfq [--products 200] [--suppliers 20] [--seeds 5] [--limit 2.0]

Each seed generates one request (``--products`` x ``--suppliers``; each supplier quotes about 80 %
of the products with a pack size, a minimum and three price tiers, and a delivery fee of 0 to
``--fee-max`` baht: 5,000 is realistic and leaves most suppliers in the award; 500,000 makes the fees
weigh as much as the goods, about half the suppliers are used, and the problem is at its hardest)
and solves it with ``pricing.award_solver`` (OR-Tools CP-SAT, one worker). Per seed it
prints the solver's status (must be OPTIMAL: proven), the number of solves (2 unless supplier sets
tie), the suppliers used, the wall and CPU time of the solve, and the floor measured in the same
run: pricing every quote line and taking the cheapest per product (reading the request once, the
least any award must do). The median and worst wall time are then compared with ``--limit``; the
exit status is 1 if a solve was not proven optimal or the worst time exceeds the limit.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from decimal import Decimal

from pricing.award_solver import solve_best_award
from pricing.money import CENT
from pricing.quotes import QuoteLine, SupplierQuote, cheapest_per_product, price_request
from pricing.tiers import Tier


def generate(products: int, suppliers: int, seed: int, fee_max: int = 5000) -> tuple[dict[int, int], list[SupplierQuote]]:
    rng = random.Random(seed)
    quantities = {p: rng.randint(10, 2000) for p in range(1, products + 1)}
    market = {p: rng.randint(500, 80000) for p in quantities}  # satang: 5 to 800 baht a unit
    quotes = []
    for s in range(1, suppliers + 1):
        lines = {}
        for p in quantities:
            if rng.random() >= 0.8:
                continue
            list_price = market[p] * rng.randint(85, 115) // 100
            steps = sorted(rng.sample(range(50, 3000, 10), 2))
            tiers = (
                Tier(0, (Decimal(list_price) / 100).quantize(CENT)),
                Tier(steps[0], (Decimal(list_price * 97 // 100) / 100).quantize(CENT)),
                Tier(steps[1], (Decimal(list_price * 93 // 100) / 100).quantize(CENT)),
            )
            lines[p] = QuoteLine(rng.choice([1, 1, 5, 10, 12, 25, 50]), rng.choice([0, 0, 0, 100, 500]), tiers)
        fee = (Decimal(rng.randint(0, fee_max * 100)) / 100).quantize(CENT)
        quotes.append(SupplierQuote(s, fee, lines))
    return quantities, quotes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--suppliers", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--fee-max", default="5000,500000",
                    help="largest supplier delivery fee in baht, one profile per value (the second: fee-heavy, the hardest)")
    ap.add_argument("--limit", type=float, default=2.0, help="seconds the worst solve must stay under")
    args = ap.parse_args(argv)

    walls: list[float] = []
    ok = True
    print(f"best award, {args.products} products x {args.suppliers} suppliers, CP-SAT 1 worker, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for fee_max in (int(f) for f in args.fee_max.split(",")):
        print(f"delivery fees 0 to {fee_max:,} baht")
        print(f"{'seed':>4} {'status':>8} {'solves':>6} {'used':>4} {'wall s':>8} {'cpu s':>8} {'floor s':>8} {'x floor':>8}")
        for seed in range(args.seeds):
            quantities, quotes = generate(args.products, args.suppliers, seed, fee_max)
            t0 = time.perf_counter()
            priced = price_request(quantities, quotes)
            cheapest_per_product(priced)
            floor = time.perf_counter() - t0
            c0, w0 = time.process_time(), time.perf_counter()
            solved = solve_best_award(priced, time_limit=60.0)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            walls.append(wall)
            ok = ok and solved.status == "OPTIMAL"
            print(f"{seed:>4} {solved.status:>8} {solved.solves:>6} {len(solved.award.supplier_fees):>4} "
                  f"{wall:>8.3f} {cpu:>8.3f} {floor:>8.3f} {wall / floor:>8.1f}")
    worst = max(walls)
    print(f"median wall {statistics.median(walls):.3f} s, worst {worst:.3f} s, limit {args.limit:.1f} s: "
          f"{'met' if ok and worst < args.limit else 'NOT met'}")
    return 0 if ok and worst < args.limit else 1


if __name__ == "__main__":
    raise SystemExit(main())
