"""The committed MATRIX.md is the table the code renders now (regenerate it with `make matrix`)."""

from __future__ import annotations

from tests.hardening.matrix import MATRIX_FILE, render


def test_the_committed_fault_matrix_is_current():
    assert MATRIX_FILE.read_text() == render(), "tests/hardening/MATRIX.md is out of date: run `make matrix`"
