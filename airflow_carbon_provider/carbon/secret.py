"""A credential wrapper whose repr and str never show the value."""

from __future__ import annotations

import hashlib


class Secret:
    """Holds a token or password; only :meth:`reveal` returns it, and only code building a request calls that."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def fingerprint(self) -> str:
        """A short one-way digest, safe as a cache-key part (tells credentials apart without holding them)."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:16]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __copy__(self) -> Secret:
        return self  # immutable; copying must work (operators get deep-copied) even though pickling does not

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret values are not picklable; keep credentials in the Airflow connection")
