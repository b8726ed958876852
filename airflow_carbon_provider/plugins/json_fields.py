"""``JsonFields(column, names)``: top-level fields of a JSON column as one JSON array, in one SQL expression.

The fleet dashboard reads a dozen scalar fields from each of tens of thousands of XCom values. Extracting them one by
one costs a JSON parse per field on SQLite (no parse cache before 3.45) and a JSON decode per field in Python;
one array per row costs one of each. Each database spells it differently, so the construct compiles per dialect:

- SQLite: ``json_extract(value, '$.a', '$.b')`` (several paths give an array, JSON types kept: ``true``
  stays ``true``, not 1; a missing field is ``null``);
- PostgreSQL: ``json_build_array(value -> 'a', value -> 'b')`` (the value column is ``jsonb``; SQLAlchemy
  writes ``value['a']`` for PostgreSQL 14+, the same);
- MySQL: ``JSON_ARRAY(JSON_EXTRACT(value, '$.a'), ...)`` (several paths in one ``JSON_EXTRACT`` would drop
  missing fields and shift the others).

Any other dialect fails to compile, naming itself: Airflow's metadata DB is one of these three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, SQLColumnExpression, func, literal
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.sql.elements import ColumnElement


class JsonFields(FunctionElement[Any]):
    """The JSON array ``[value.names[0], value.names[1], ...]``: at least two names (one would not be an array
    on SQLite), each an identifier (so no JSON path needs quoting on any dialect)."""

    type = JSON()
    inherit_cache = True
    name = "json_fields"

    def __init__(self, column: SQLColumnExpression[Any], names: Sequence[str]) -> None:
        if len(names) < 2 or not all(name.isidentifier() for name in names):
            raise ValueError(f"names must be at least two field names, each an identifier, got {list(names)!r}")
        self.names = tuple(names)
        super().__init__(column)

    @property
    def column(self) -> ColumnElement[Any]:
        return next(iter(self.clauses))  # type: ignore[no-any-return]


def _path(name: str) -> str:
    return f"$.{name}"  # an identifier (checked above): nothing to quote


@compiles(JsonFields, "sqlite")
def _sqlite(element: JsonFields, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.json_extract(element.column, *(literal(_path(n)) for n in element.names)), **kw)


@compiles(JsonFields, "postgresql")
def _postgresql(element: JsonFields, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.json_build_array(*(element.column[n] for n in element.names)), **kw)


@compiles(JsonFields, "mysql")
def _mysql(element: JsonFields, compiler: SQLCompiler, **kw: Any) -> str:
    extract = (func.JSON_EXTRACT(element.column, literal(_path(n))) for n in element.names)
    return compiler.process(func.JSON_ARRAY(*extract), **kw)


@compiles(JsonFields)
def _other(element: JsonFields, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"JsonFields supports sqlite, postgresql and mysql, not {compiler.dialect.name}")
