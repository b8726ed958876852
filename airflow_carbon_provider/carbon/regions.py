"""Cloud region -> grid zone for each source, so ``zone="aws:eu-north-1"`` works anywhere a zone does.

Electricity Maps zones: Cloud Carbon Footprint, cloud-carbon-footprint/cloud-carbon-footprint @ b7a049c7
(2024-03): packages/aws/src/lib/AWSRegions.ts (AWS_MAPPED_REGIONS_TO_ELECTRICITY_MAPS_ZONES),
packages/gcp/src/lib/GCPRegions.ts, packages/azure/src/lib/AzureRegions.ts (as summarised in the project's
carbon-apis.md section 6). WattTime publishes no cloud mapping: only the region WattTime gives free access to
is listed; resolve others with /v3/region-from-loc. UK Carbon Intensity: London region id 13 (NESO region table).
"""

from __future__ import annotations

PROVIDERS = ("aws", "gcp", "azure")

ELECTRICITYMAPS: dict[str, str] = {
    "aws:us-east-1": "US-MIDA-PJM",
    "aws:us-east-2": "US-MIDA-PJM",
    "aws:us-west-1": "US-CAL-CISO",
    "aws:us-west-2": "US-NW-PACW",
    "aws:us-gov-east-1": "US-MIDA-PJM",
    "aws:us-gov-west-1": "US-NW-PACW",
    "aws:ca-central-1": "CA-QC",
    "aws:eu-west-1": "IE",
    "aws:eu-west-2": "GB",
    "aws:eu-west-3": "FR",
    "aws:eu-central-1": "DE",
    "aws:eu-north-1": "SE-SE3",
    "aws:eu-south-1": "IT-NO",
    "aws:ap-northeast-1": "JP-TK",
    "aws:ap-northeast-2": "KR",
    "aws:ap-northeast-3": "JP-KN",
    "aws:ap-southeast-1": "SG",
    "aws:ap-southeast-2": "AU-NSW",
    "aws:ap-southeast-3": "ID",
    "aws:ap-south-1": "IN-WE",
    "aws:sa-east-1": "BR-CS",
    "aws:af-south-1": "ZA",
    "gcp:europe-west1": "BE",
    "gcp:us-central1": "US-MIDW-MISO",
    "gcp:us-east4": "US-MIDA-PJM",
    "gcp:us-west1": "US-NW-PACW",
    "azure:northeurope": "IE",
    "azure:westeurope": "NL",
    "azure:japaneast": "JP-TK",
}
"""CCF maps ap-east-1, me-south-1, me-central-1, cn-north-1 and cn-northwest-1 to no zone: they stay unmapped."""

WATTTIME: dict[str, str] = {"aws:us-west-1": "CAISO_NORTH"}

UKGRID: dict[str, str] = {"aws:eu-west-2": "13"}

# The bundled replay files are named by country (BR, ES, NO) or by Electricity Maps zone (US-CAL-CISO).
REPLAY: dict[str, str] = {"aws:us-west-1": "US-CAL-CISO", "aws:sa-east-1": "BR"}

TABLES: dict[str, dict[str, str]] = {
    "electricitymaps": ELECTRICITYMAPS,
    "watttime": WATTTIME,
    "ukgrid": UKGRID,
    "replay": REPLAY,
}

HOW_TO_FIND = {
    "electricitymaps": "pass an Electricity Maps zone key directly (GET https://api.electricitymaps.com/v3/zones)",
    "watttime": "pass a WattTime region code (GET /v3/my-access, or /v3/region-from-loc with the data centre's "
    "coordinates)",
    "ukgrid": "pass GB, a NESO region id 1-17 or an outward postcode",
    "carbon_aware_sdk": "pass the SDK's location name (GET /locations on your WebAPI), e.g. eastus",
    "replay": "pass a bundled zone (BR, ES, NO, US-CAL-CISO) or set replay_file",
}


def is_cloud_region(zone: str) -> bool:
    provider, sep, _ = zone.partition(":")
    return bool(sep) and provider.lower() in PROVIDERS


def resolve_zone(zone: str, source: str) -> str:
    """``zone`` itself, or the zone a ``provider:region`` name maps to for ``source``."""
    if not is_cloud_region(zone):
        return zone
    provider, _, region = zone.partition(":")
    key = f"{provider.lower()}:{region.lower()}"
    if source == "carbon_aware_sdk" and provider.lower() == "azure":
        return region.lower()  # the SDK's own location names are Azure region names
    mapped = TABLES.get(source, {}).get(key)
    if mapped is None:
        known = sorted(TABLES.get(source, {}))
        listed = f"mapped regions for {source}: {', '.join(known)}" if known else f"no cloud regions map to {source}"
        hint = HOW_TO_FIND.get(source, "pass a zone name")
        raise ValueError(f"zone: cloud region {zone!r} has no {source} zone ({listed}); {hint}")
    return mapped
