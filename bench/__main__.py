"""One entry point for the benchmarks: ``python -m bench NAME [options]``, NAME one of
combine, receipt, summary, order, load, rfq, households, mobile, country, all.

``all`` runs them at the sizes of the README's table; each prints its floor beside its figure. The
national round (``country``) runs in ``all`` at its validation size, 200,000 lines (about a minute);
``python -m bench all --country-lines 5000000`` runs it at the national size (several minutes and a few
GB of disk), ``--country-lines 0`` leaves it out.
"""
from __future__ import annotations

import sys

from bench import combine_bench, load, order_bench, receipt_bench, rfq_bench, summary_bench

USAGE = ("usage: python -m bench {combine|receipt|summary|order|load|rfq|households|mobile|country|all} "
         "[options of that benchmark]; all [--country-lines N]")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name == "combine":
        combine_bench.main(rest)
        return 0
    if name == "receipt":
        return receipt_bench.main(rest) or 0
    if name == "order":
        return order_bench.main(rest) or 0
    if name == "summary":
        return summary_bench.main(rest) or 0
    if name == "load":
        return load.main(rest) or 0
    if name == "rfq":
        return rfq_bench.main(rest)
    if name == "households":
        from bench import household_bench

        return household_bench.main(rest)
    if name == "mobile":
        from bench import mobile  # needs Playwright and Chromium

        return mobile.main(rest) or 0
    if name == "country":
        from bench import country

        return country.main(rest)
    if name == "all":
        country_lines = 200_000
        if rest[:1] == ["--country-lines"] and len(rest) == 2 and rest[1].isdigit():
            country_lines = int(rest[1])
        elif rest:
            print(USAGE, file=sys.stderr)
            return 2
        combine_bench.main(["--lines", "10000,100000,1000000"])
        status = receipt_bench.main(["--lines", "100000"]) or 0
        status = status or summary_bench.main(["--rows", "1000000"]) or 0
        status = status or order_bench.main(["--requests", "2000"]) or 0
        status = rfq_bench.main([]) or status
        from bench import household_bench  # 1,000 groups x 100 households x 10 offers: 1,000,000 lines

        status = household_bench.main([]) or status
        status = status or load.main(["--duration", "60"]) or 0
        if country_lines:
            from bench import country

            status = status or country.main(["--lines", str(country_lines)]) or 0
        return status
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
