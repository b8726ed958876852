"""``JsonFields``: a JSON column's fields as one array, on a real SQLite and as PostgreSQL and MySQL spell it
(a real PostgreSQL runs the fleet query in test_store_postgres.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import mssql, mysql, postgresql
from sqlalchemy.exc import CompileError

from airflow_carbon_provider.plugins.json_fields import JsonFields

VALUES = Table("payloads", MetaData(), Column("id", Integer, primary_key=True), Column("value", JSON))


def sqlite_fields(value: Any, names: tuple[str, ...]) -> Any:
    engine = create_engine("sqlite://")
    VALUES.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(VALUES).values(id=1, value=value))
        return connection.execute(select(JsonFields(VALUES.c.value, names))).scalar_one()


def test_sqlite_returns_the_fields_in_order_with_their_json_types() -> None:
    value = {"b": [1, "x"], "a": 1.5, "flag": True, "off": False, "text": "hi", "none": None}

    assert sqlite_fields(value, ("a", "b", "flag", "off", "text", "none")) == [1.5, [1, "x"], True, False, "hi", None]


def test_sqlite_gives_null_for_a_missing_field_and_keeps_the_others_in_place() -> None:
    assert sqlite_fields({"a": 1}, ("missing", "a")) == [None, 1]


def test_sqlite_gives_null_fields_for_a_value_that_is_not_an_object() -> None:
    assert sqlite_fields([1, 2], ("a", "b")) == [None, None]


def compiled(dialect: Any) -> str:
    return str(select(JsonFields(VALUES.c.value, ("a", "b"))).compile(dialect=dialect))


def test_postgresql_builds_an_array_of_the_fields_as_json() -> None:
    assert compiled(postgresql.dialect()).startswith(
        "SELECT json_build_array(payloads.value -> %(value_1)s::TEXT, payloads.value -> %(value_2)s::TEXT)"
    )


def test_mysql_extracts_each_field_on_its_own_so_a_missing_one_keeps_its_place() -> None:
    assert compiled(mysql.dialect()).startswith(
        "SELECT JSON_ARRAY(JSON_EXTRACT(payloads.value, %s), JSON_EXTRACT(payloads.value, %s))"
    )


def test_another_dialect_fails_naming_itself() -> None:
    with pytest.raises(CompileError, match="not mssql"):
        compiled(mssql.dialect())


def test_fewer_than_two_names_are_refused() -> None:
    with pytest.raises(ValueError, match="at least two field names"):
        JsonFields(VALUES.c.value, ("a",))


def test_a_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="each an identifier"):
        JsonFields(VALUES.c.value, ("a", "b') OR 1=1 --"))
