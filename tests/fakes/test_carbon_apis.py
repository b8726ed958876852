"""The fake carbon-intensity services answer in the documented shapes (tests/data/carbon-apis/*.json).

Each fake endpoint is called over HTTP like a client would, and its body is compared with the vendor's
documented example: the same keys at every level and the same JSON types. A fake that drifted from the docs
would let the provider's parsers pass against a shape no real service sends.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_DATA
from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW, WT_PASSWORD, WT_USER

UK_TIME = "%Y-%m-%dT%H:%MZ"


def documented(service: str, name: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads((TEST_DATA / "carbon-apis" / f"{service}.json").read_text(encoding="utf-8"))[
        name
    ]
    return entry


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_differences(got: Any, doc: Any, nullable: set[str], optional: set[str], where: str = "") -> list[str]:
    """Where ``got`` does not have the shape of the documented ``doc`` (empty when it has)."""
    key = where.rsplit(".", 1)[-1].removesuffix("[]")
    if key in nullable and None in (got, doc):
        return []
    if kind(got) != kind(doc):
        return [f"{where or '<body>'}: {kind(got)} where the docs have {kind(doc)}"]
    if isinstance(doc, dict):
        missing = sorted(doc.keys() - got.keys() - optional)
        extra = sorted(got.keys() - doc.keys() - optional)
        found = [f"{where}.{name}: missing" for name in missing] + [f"{where}.{name}: not documented" for name in extra]
        for name in sorted(doc.keys() & got.keys()):
            found += shape_differences(got[name], doc[name], nullable, optional, f"{where}.{name}")
        return found
    if isinstance(doc, list) and doc:
        return [
            difference
            for item in got
            for difference in shape_differences(item, doc[0], nullable, optional, f"{where}[]")
        ]
    return []


def assert_documented(response: httpx.Response, service: str, name: str, status: int = 200) -> None:
    entry = documented(service, name)
    assert response.status_code == status, response.text
    differences = shape_differences(response.json(), entry["body"], set(entry["nullable"]), set(entry["optional"]))
    assert differences == [], f"{service} {name} differs from the docs ({entry['source']})"


def test_the_shape_check_notices_a_missing_an_extra_and_a_retyped_field() -> None:
    doc = {"a": 1, "b": [{"c": "x"}], "d": None}
    got = {"a": "1", "b": [{"c": "x", "e": 2}]}
    assert shape_differences(got, doc, nullable=set(), optional=set()) == [
        ".d: missing",
        ".a: str where the docs have number",
        ".b[].e: not documented",
    ]
    assert shape_differences({"a": 1, "b": [], "d": None}, doc, nullable=set(), optional=set()) == []


@pytest.mark.parametrize("endpoint", ["latest", "history", "forecast"])
def test_electricity_maps_answers_in_the_documented_shape(electricitymaps_api, endpoint) -> None:
    params = {"zone": "DE", "disableCallerLookup": "true"}
    response = httpx.get(
        f"{electricitymaps_api.base_url}/carbon-intensity/{endpoint}", params=params, headers={"auth-token": EM_TOKEN}
    )
    assert_documented(response, "electricitymaps", endpoint)


def test_electricity_maps_past_range_answers_in_the_documented_shape(electricitymaps_api) -> None:
    params = {
        "zone": "DE",
        "disableCallerLookup": "true",
        "start": (FAKE_NOW - timedelta(hours=6)).isoformat(),
        "end": FAKE_NOW.isoformat(),
    }
    response = httpx.get(
        f"{electricitymaps_api.base_url}/carbon-intensity/past-range", params=params, headers={"auth-token": EM_TOKEN}
    )
    assert_documented(response, "electricitymaps", "past-range")


def test_electricity_maps_errors_have_the_documented_shapes(electricitymaps_api) -> None:
    url = f"{electricitymaps_api.base_url}/carbon-intensity/latest"
    unknown = httpx.get(url, params={"zone": "XX", "disableCallerLookup": "true"}, headers={"auth-token": EM_TOKEN})
    assert_documented(unknown, "electricitymaps", "error-400", status=404)
    unauthorized = httpx.get(url, params={"zone": "DE", "disableCallerLookup": "true"}, headers={"auth-token": "no"})
    assert_documented(unauthorized, "electricitymaps", "error-401", status=401)


@pytest.fixture
def watttime(watttime_api) -> httpx.Client:
    login = httpx.get(f"{watttime_api.url}/login", auth=(WT_USER, WT_PASSWORD))
    assert_documented(login, "watttime", "login")
    return httpx.Client(base_url=watttime_api.url, headers={"Authorization": f"Bearer {login.json()['token']}"})


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("forecast", {"horizon_hours": "1"}),
        ("historical", {"start": (FAKE_NOW - timedelta(hours=1)).isoformat(), "end": FAKE_NOW.isoformat()}),
        ("signal-index", {}),
        ("region-from-loc", {"latitude": "38.5", "longitude": "-121.5"}),
    ],
)
def test_watttime_answers_in_the_documented_shape(watttime, endpoint, params) -> None:
    region = {} if endpoint == "region-from-loc" else {"region": "CAISO_NORTH"}
    response = watttime.get(f"/v3/{endpoint}", params={"signal_type": "co2_moer", **region, **params})
    assert_documented(response, "watttime", endpoint)


def test_watttime_errors_have_the_documented_shape(watttime) -> None:
    for region, status in (("NOPE", 400), ("PJM_NJ", 403)):
        response = watttime.get("/v3/forecast", params={"region": region, "signal_type": "co2_moer"})
        assert_documented(response, "watttime", "error", status=status)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/intensity", "national"),
        (f"/intensity/{FAKE_NOW:{UK_TIME}}/fw24h", "national"),
        ("/regional/regionid/13", "regional-now"),
        ("/regional/postcode/RG41", "regional-now"),
        (f"/regional/intensity/{FAKE_NOW:{UK_TIME}}/fw24h/postcode/BS16", "regional-span"),
    ],
)
def test_uk_carbon_intensity_answers_in_the_documented_shape(ukgrid_api, path, name) -> None:
    assert_documented(httpx.get(ukgrid_api.url + path), "ukgrid", name)


def test_uk_regional_series_can_take_the_list_shape_the_docs_show(ukgrid_api) -> None:
    ukgrid_api.regional_series_as_list = True
    response = httpx.get(f"{ukgrid_api.url}/regional/intensity/{FAKE_NOW:{UK_TIME}}/fw24h/regionid/11")
    assert_documented(response, "ukgrid", "regional-now")


def test_uk_errors_have_the_documented_shape(ukgrid_api) -> None:
    assert_documented(httpx.get(f"{ukgrid_api.url}/regional/postcode/ZZ9"), "ukgrid", "error", status=400)


def test_carbon_aware_sdk_answers_in_the_documented_shapes(carbon_aware_sdk_api) -> None:
    window = {"time": FAKE_NOW.isoformat(), "toTime": (FAKE_NOW + timedelta(hours=2)).isoformat()}
    emissions = httpx.get(f"{carbon_aware_sdk_api.url}/emissions/bylocation", params={"location": "eastus", **window})
    assert_documented(emissions, "carbon-aware-sdk", "bylocation")
    forecast = httpx.get(f"{carbon_aware_sdk_api.url}/emissions/forecasts/current", params={"location": "eastus"})
    assert_documented(forecast, "carbon-aware-sdk", "forecasts-current")


def test_carbon_aware_sdk_errors_are_rfc7807_problems(carbon_aware_sdk_api) -> None:
    missing = httpx.get(f"{carbon_aware_sdk_api.url}/emissions/bylocation")
    assert_documented(missing, "carbon-aware-sdk", "problem", status=400)
    carbon_aware_sdk_api.forecast_supported = False
    unsupported = httpx.get(f"{carbon_aware_sdk_api.url}/emissions/forecasts/current", params={"location": "eastus"})
    assert_documented(unsupported, "carbon-aware-sdk", "problem", status=501)
