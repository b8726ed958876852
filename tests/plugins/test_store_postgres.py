"""The fleet query on a real PostgreSQL (Airflow's production metadata DB): Airflow's own tables, the sample runs
copied from the session's SQLite DB, and the same answer as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_carbon_provider.plugins.json_fields import JsonFields
from airflow_carbon_provider.plugins.store import fleet
from tests.plugins.postgres import postgres_server

pytestmark = pytest.mark.db
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def tables_of_xcom() -> list[Any]:
    """The xcom table and every table it depends on through foreign keys, parents first."""
    from airflow.models import import_all_models
    from airflow.models.base import Base
    from airflow.models.xcom import XComModel

    import_all_models()
    needed, stack = set(), [XComModel.__table__]
    while stack:
        table = stack.pop()
        if table.name not in needed:
            needed.add(table.name)
            stack.extend(key.column.table for key in table.foreign_keys)
    return [table for table in Base.metadata.sorted_tables if table.name in needed]


@pytest.fixture(scope="module")
def pg_session(sample_runs: dict[str, str]) -> Iterator[Any]:
    """A session on a fresh PostgreSQL holding Airflow's tables and a copy of the session DB's runs."""
    from airflow.utils.session import create_session
    from sqlalchemy import create_engine, insert, select
    from sqlalchemy.orm import Session

    with postgres_server() as server:
        engine = create_engine(server.url)
        tables = tables_of_xcom()
        with engine.begin() as target, create_session() as source:
            for table in tables:
                table.create(target)
                rows = [dict(row._mapping) for row in source.execute(select(table))]
                if rows:
                    target.execute(insert(table), rows)
        with Session(engine) as session:
            yield session
        engine.dispose()


def as_json(session: Any, dag_ids: list[str]) -> list[dict]:
    return [run.to_json() for run in fleet(session, dag_ids, SINCE, None)]


def test_postgresql_reads_the_same_fleet_as_sqlite(pg_session: Any, sample_runs: dict[str, str]) -> None:
    from airflow.utils.session import create_session

    with create_session() as sqlite_session:
        expected = as_json(sqlite_session, sorted(sample_runs))

    assert {run["dag_id"] for run in expected} >= {"carbon_green_run", "carbon_failed_run", "carbon_nodepool"}
    assert as_json(pg_session, sorted(sample_runs)) == expected


def test_postgresql_returns_the_fields_with_their_json_types(pg_session: Any) -> None:
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select
    from sqlalchemy.dialects.postgresql import JSONB

    table = Table("payloads", MetaData(), Column("id", Integer, primary_key=True),
                  Column("value", JSON().with_variant(JSONB, "postgresql")))  # fmt: skip  # as Airflow's xcom.value
    table.create(pg_session.connection())
    pg_session.execute(insert(table).values(id=1, value={"a": 1.5, "flag": True, "list": ["x"], "text": "hi"}))

    fields = pg_session.execute(select(JsonFields(table.c.value, ("a", "flag", "missing", "list", "text")))).scalar()

    assert fields == [1.5, True, None, ["x"], "hi"]
    pg_session.rollback()
