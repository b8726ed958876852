"""The shipped bundle was built from the sources in the tree (CI also rebuilds it and compares byte for byte)."""

from __future__ import annotations

import importlib.util

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("ui_bundle", REPO / "scripts" / "ui_bundle.py")
assert spec is not None
assert spec.loader is not None
ui_bundle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ui_bundle)


def test_the_bundle_was_built_from_the_current_sources() -> None:
    assert ui_bundle.recorded_digest() == ui_bundle.source_digest(), "run `make ui-bundle` and commit dist/"


def test_the_bundle_loads_nothing_from_the_network() -> None:
    bundle = ui_bundle.BUNDLE.read_text()

    assert "http://" not in bundle.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in bundle
