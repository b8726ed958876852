from __future__ import annotations

import pytest

from airflow_carbon_provider.karpenter.mergepatch import apply_merge_patch, create_merge_patch

RFC7386_APPENDIX_A = [  # (target, patch, result) from RFC 7386 Appendix A
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386_APPENDIX_A)
def test_rfc7386_appendix_examples_apply(target, patch, expected) -> None:
    assert apply_merge_patch(target, patch) == expected


def test_created_patch_holds_only_differences_and_nulls_removed_keys() -> None:
    before = {"spec": {"limits": {"cpu": "10", "memory": "1Gi"}, "weight": 5, "template": {"a": [1, 2]}}}
    after = {"spec": {"limits": {"cpu": "0"}, "weight": 5, "template": {"a": [1, 3]}}}
    patch = create_merge_patch(before, after)
    assert patch == {"spec": {"limits": {"cpu": "0", "memory": None}, "template": {"a": [1, 3]}}}
    assert apply_merge_patch(before, patch) == after
