"""What a job asks of the planner: the policy, its thresholds and the job's shape.

Validated at construction (DAG-parse time) with errors that name the parameter and the allowed values, and
JSON-safe through :meth:`PlanSpec.to_dict` so a sensor can hand the same spec to its trigger.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from airflow_carbon_provider.carbon.choices import parse_choice

_PERCENTILE = re.compile(r"^[pP](\d{1,2}(?:\.\d+)?|100)$")


class Policy(StrEnum):
    """How the start is chosen. ``oracle`` is replay-only: the forecast policy fed the true future."""

    NOW = "now"
    THRESHOLD = "threshold"
    HYSTERESIS = "hysteresis"
    FORECAST = "forecast"
    AUTO = "auto"
    ORACLE = "oracle"


class DeadlineKind(StrEnum):
    """``start``: the job must start by the deadline; ``finish``: it must finish by it."""

    START = "start"
    FINISH = "finish"


@dataclass(frozen=True)
class Threshold:
    """An absolute intensity (gCO₂e/kWh) or a percentile (``p25``) of the recent history or forecast window."""

    value: float
    percentile: bool = False

    @classmethod
    def parse(cls, value: str | float | Threshold, name: str = "threshold") -> Threshold:
        """``250``, ``"250"``, ``"p25"`` (25th percentile); anything else is a ValueError naming ``name``."""
        if isinstance(value, Threshold):
            return value
        allowed = "a number >= 0 (gCO₂e/kWh) or a percentile 'p0'..'p100' such as 'p25'"
        if isinstance(value, bool):
            raise ValueError(f"{name} must be {allowed}, got {value!r}")
        if isinstance(value, str):
            text = value.strip()
            match = _PERCENTILE.match(text)
            if match:
                return cls(float(match.group(1)), percentile=True)
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
        elif isinstance(value, int | float):
            number = float(value)
        else:
            raise ValueError(f"{name} must be {allowed}, got {value!r}")
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{name} must be {allowed}, got {value!r}")
        return cls(number)

    def to_json(self) -> str | float:
        return f"p{self.value:g}" if self.percentile else self.value

    def __str__(self) -> str:
        return f"p{self.value:g}" if self.percentile else f"{self.value:g} gCO₂e/kWh"


def _hours(value: timedelta) -> float:
    return value.total_seconds() / 3600


@dataclass(frozen=True)
class PlanSpec:
    """The job and policy the planner plans for.

    ``threshold`` is required by ``threshold`` and ``hysteresis`` (it is the low threshold of the latter);
    ``threshold_high`` defaults to ``threshold`` for hysteresis. ``history_window`` bounds how much history
    percentiles and the built-in forecaster read.
    """

    policy: Policy = Policy.AUTO
    duration: timedelta = timedelta(hours=1)
    deadline_kind: DeadlineKind = DeadlineKind.FINISH
    threshold: Threshold | None = None
    threshold_high: Threshold | None = None
    min_dwell: timedelta = timedelta(0)
    history_window: timedelta = field(default=timedelta(days=14))

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", parse_choice(Policy, self.policy, "policy"))
        object.__setattr__(self, "deadline_kind", parse_choice(DeadlineKind, self.deadline_kind, "deadline_kind"))
        for name in ("duration", "min_dwell", "history_window"):
            if not isinstance(getattr(self, name), timedelta):
                raise ValueError(f"{name} must be a timedelta, got {getattr(self, name)!r}")
        if self.duration <= timedelta(0):
            raise ValueError(f"duration must be > 0 (the job's expected run time), got {self.duration}")
        if self.min_dwell < timedelta(0):
            raise ValueError(f"min_dwell must be >= 0, got {self.min_dwell}")
        if self.history_window < timedelta(hours=1):
            raise ValueError(f"history_window must be >= 1 hour (7-14 days recommended), got {self.history_window}")
        if self.threshold is not None:
            object.__setattr__(self, "threshold", Threshold.parse(self.threshold, "threshold"))
        if self.threshold_high is not None:
            object.__setattr__(self, "threshold_high", Threshold.parse(self.threshold_high, "threshold_high"))
        if self.policy in (Policy.THRESHOLD, Policy.HYSTERESIS) and self.threshold is None:
            raise ValueError(f"threshold is required for policy {self.policy.value!r} (e.g. 250 or 'p25')")
        if self.threshold_high is not None:
            if self.policy is not Policy.HYSTERESIS:
                raise ValueError(f"threshold_high is only used by policy 'hysteresis', not {self.policy.value!r}")
            assert self.threshold is not None
            if self.threshold_high.percentile != self.threshold.percentile:
                raise ValueError("threshold_high and threshold must both be absolute or both percentiles")
            if self.threshold_high.value < self.threshold.value:
                raise ValueError(
                    f"threshold_high ({self.threshold_high}) must be >= threshold ({self.threshold}) for hysteresis"
                )

    @property
    def low(self) -> Threshold | None:
        return self.threshold

    @property
    def high(self) -> Threshold | None:
        return self.threshold_high or self.threshold

    def latest_start_offset(self) -> timedelta:
        """How much earlier than the deadline the job must start at the latest."""
        return self.duration if self.deadline_kind is DeadlineKind.FINISH else timedelta(0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (durations in seconds, thresholds as numbers or ``"pNN"``)."""
        return {
            "policy": self.policy.value,
            "duration_s": self.duration.total_seconds(),
            "deadline_kind": self.deadline_kind.value,
            "threshold": self.threshold.to_json() if self.threshold else None,
            "threshold_high": self.threshold_high.to_json() if self.threshold_high else None,
            "min_dwell_s": self.min_dwell.total_seconds(),
            "history_window_s": self.history_window.total_seconds(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanSpec:
        threshold = data.get("threshold")
        high = data.get("threshold_high")
        return cls(
            policy=Policy(data.get("policy", Policy.AUTO)),
            duration=timedelta(seconds=float(data["duration_s"])),
            deadline_kind=DeadlineKind(data.get("deadline_kind", DeadlineKind.FINISH)),
            threshold=Threshold.parse(threshold, "threshold") if threshold is not None else None,
            threshold_high=Threshold.parse(high, "threshold_high") if high is not None else None,
            min_dwell=timedelta(seconds=float(data.get("min_dwell_s", 0))),
            history_window=timedelta(seconds=float(data.get("history_window_s", 14 * 86400))),
        )

    def describe(self) -> str:
        """One line for task logs."""
        parts = [f"policy={self.policy.value}", f"duration={_hours(self.duration):g}h"]
        if self.threshold is not None:
            parts.append(f"threshold={self.threshold}")
        if self.threshold_high is not None:
            parts.append(f"threshold_high={self.threshold_high}")
        return " ".join(parts)
