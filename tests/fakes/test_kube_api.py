"""The fake Kubernetes API server's own merge: RFC 7386 as the standard writes it (Appendix A)."""

from __future__ import annotations

import pytest

from tests.fakes.kube_api import merge_patched
from tests.karpenter.test_mergepatch import RFC7386_APPENDIX_A


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386_APPENDIX_A)
def test_the_fake_merges_as_rfc7386_appendix_a(target, patch, expected) -> None:
    assert merge_patched(target, patch) == expected


def test_the_fake_merge_leaves_its_inputs_alone() -> None:
    target, patch = {"a": {"b": [1]}}, {"a": {"b": None, "c": {"d": 1}}}
    merge_patched(target, patch)
    assert (target, patch) == ({"a": {"b": [1]}}, {"a": {"b": None, "c": {"d": 1}}})
