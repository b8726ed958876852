"""Domain core: readings, units, sources, planning and accounting.

Nothing in this package imports Airflow, so it is testable in milliseconds and reusable from the CLI.
"""
