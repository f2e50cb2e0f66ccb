"""Run all benchmarks and print one table: `python -m tests.bench [--quick] [NAME...]`."""
import argparse
import importlib
import pkgutil
import sys
import traceback

from rich.console import Console
from rich.table import Table

from tests import bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("names", nargs="*", help="only modules whose name contains one of these")
    parser.add_argument("--quick", action="store_true", help="smaller samples (smoke run)")
    args = parser.parse_args(argv)

    table = Table(title="tillkit benchmarks")
    for column in ("benchmark", "result", "detail", "target"):
        table.add_column(column)
    failed = False
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if args.names and not any(n in info.name for n in args.names):
            continue
        module = importlib.import_module(f"tests.bench.{info.name}")
        try:
            rows = module.run(quick=args.quick)
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            table.add_row(info.name, "[red]failed[/red]", "see traceback above", "")
            failed = True
            continue
        for row in rows:
            table.add_row(row.name, row.value, row.detail, row.target)
    Console().print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
