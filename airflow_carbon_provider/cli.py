"""The ``airflow-carbon`` console script: one subcommand per task (``replay``; others register alongside)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Each subcommand module adds its parser with ``add_parser(subparsers)`` and sets ``handler``."""
    from airflow_carbon_provider.replay import command as replay

    parser = argparse.ArgumentParser(prog="airflow-carbon", description="Carbon-aware scheduling tools for Airflow.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    replay.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ValueError as exc:  # bad input files or values: say what is wrong, no traceback
        print(f"airflow-carbon {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
