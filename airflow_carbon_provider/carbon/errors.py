"""Typed failures of carbon-intensity sources; each message says what the user should fix."""

from __future__ import annotations


class CarbonSourceError(Exception):
    """Base class: a carbon-intensity source could not deliver a usable answer."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class AuthenticationFailedError(CarbonSourceError):
    """The credentials were rejected; retrying will not help."""


class ZoneUnknownError(CarbonSourceError):
    """The service does not know the zone/region, or has no data for it."""


class PlanNotIncludedError(CarbonSourceError):
    """The account's plan does not include this endpoint or zone."""


class RateLimitedError(CarbonSourceError):
    """The service kept answering 429 after the retry budget was spent."""


class SourceUnavailableError(CarbonSourceError):
    """Connection failures or 5xx answers outlasted the retry budget."""


class MalformedResponseError(CarbonSourceError):
    """The answer did not have the documented shape or held impossible values."""
