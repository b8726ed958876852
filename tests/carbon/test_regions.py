"""Cloud region -> zone per source."""

from __future__ import annotations

import pytest

from airflow_carbon_provider.carbon.regions import resolve_zone


@pytest.mark.parametrize(
    ("zone", "source", "expected"),
    [
        ("aws:eu-north-1", "electricitymaps", "SE-SE3"),
        ("AWS:EU-WEST-1", "electricitymaps", "IE"),
        ("gcp:europe-west1", "electricitymaps", "BE"),
        ("azure:westeurope", "electricitymaps", "NL"),
        ("aws:us-west-1", "watttime", "CAISO_NORTH"),
        ("aws:eu-west-2", "ukgrid", "13"),
        ("aws:us-west-1", "replay", "US-CAL-CISO"),
        ("azure:eastus", "carbon_aware_sdk", "eastus"),
    ],
)
def test_cloud_regions_map_per_source(zone, source, expected):
    assert resolve_zone(zone, source) == expected


def test_plain_zones_pass_through():
    assert resolve_zone("DE", "electricitymaps") == "DE"
    assert resolve_zone("postcode:RG41", "ukgrid") == "postcode:RG41"


def test_unmapped_region_says_how_to_find_valid_zones():
    with pytest.raises(ValueError, match=r"aws:ap-east-1.*/v3/zones"):
        resolve_zone("aws:ap-east-1", "electricitymaps")


def test_watttime_points_at_region_lookup():
    with pytest.raises(ValueError, match="region-from-loc"):
        resolve_zone("aws:eu-central-1", "watttime")
