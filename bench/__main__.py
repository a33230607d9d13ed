"""The benchmark table of issue 12: every case, on SQLite and (when TREFFPUNKT_TEST_DATABASE_URL
names a server) on PostgreSQL, each row with the project's figure, the comparison measured in
the same run, their ratio, the target and whether it is met.

    .venv/bin/python -m bench [--quick] [--cases 123456]

``--quick`` shrinks the fan-out cases (1, 2, 4) to try the set-up; the table is only
meaningful without it. Progress goes to stderr, the table to stdout. About 25 minutes in all
on a 2-core machine (case 2 alone sends for two minutes per tier and backend).
"""

from __future__ import annotations

import argparse
import asyncio

from bench import fanout, latency, matrix_fanout, queueing
from bench.harness import progress
from bench.table import Figure, render


async def run(cases: str, quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    if any(case in cases for case in "124"):
        figures += await fanout.measure(quick, "".join(c for c in cases if c in "124"))
    if "3" in cases:
        figures += await latency.measure()
    if "5" in cases:
        progress("case 5: queueing a broadcast to 100,000 people")
        figures += await queueing.measure()
    if "6" in cases:
        progress("case 6: Matrix fan-out to 500 direct chats (starts Synapse)")
        figures += await matrix_fanout.measure()
    return sorted(figures, key=lambda f: f.case)


def main() -> None:
    parser = argparse.ArgumentParser(description="the benchmark table of issue 12")
    parser.add_argument("--quick", action="store_true", help="small fan-out sizes (1, 2, 4)")
    parser.add_argument("--cases", default="123456", help="which cases, e.g. 126")
    args = parser.parse_args()
    figures = asyncio.run(run(args.cases, args.quick))
    print(render(figures))
    met = sum(f.met for f in figures)
    print(f"\n{met} of {len(figures)} rows meet their target.")


if __name__ == "__main__":
    main()
