"""Parsing a user's choice among an enum's values, with the error every parameter uses."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: object, name: str) -> E:
    """``value`` as a member of ``enum`` (case and surrounding spaces ignored), or a ValueError naming ``name``
    and the allowed values."""
    allowed = ", ".join(repr(member.value) for member in enum)
    if isinstance(value, str):
        try:
            return enum(value.strip().lower())
        except ValueError:
            pass
    raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
