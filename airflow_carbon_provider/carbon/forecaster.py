"""The built-in forecaster: what ``auto`` plans on when the source gives no forecast covering the window.

Uses history only (never a value that starts at or after the forecast's origin). The forecast for a time t is
a daily profile -- the weighted mean of the same time of day over the previous 14 days, recent days and the same
weekday weighted more -- shifted by the current deviation from that profile (the last hour's), which fades slowly
with the lead time: weather-driven levels (wind, hydro, imports) last many hours. Its parameters and what they were
chosen on are in BENCHMARKS.md ("The built-in forecaster"). Each slot's value depends only on the history and the
origin, never on how far the forecast runs, so waits of different lengths sharing one forecast see the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from airflow_carbon_provider.carbon.series import Series

DAY = 86400.0
HOUR = 3600.0


@dataclass(frozen=True)
class ForecasterConfig:
    """``days`` of profile, each day weighted ``day_decay`` times the next more recent one, the same weekday
    ``week_weight`` more; the deviation of the last ``level_hours`` from the profile is added with weight
    ``level_decay ** lead_hours``."""

    days: int = 14
    day_decay: float = 0.8
    week_weight: float = 1.0
    level_hours: float = 1.0
    level_decay: float = 0.98
    min_step: float = 300.0
    max_step: float = HOUR


DEFAULT = ForecasterConfig()
HORIZON_STEP = 48 * HOUR
"""Forecasts run to a multiple of this past the origin: waits up to two days long all see one series of the same
length, whoever computed it (a trigger for its single wait or a replay for many), so their window means agree
to the last bit."""


def forecast(history: Series, *, origin: float, end: float, config: ForecasterConfig | None = None) -> Series:
    """Forecast ``[origin, end)`` from ``history`` (only its intervals starting before ``origin`` are read).

    Slots follow the history's own resolution (clamped to 5 min .. 1 h) and run to ``end`` rounded up to
    :data:`HORIZON_STEP` (at least one step). Empty when history is empty.
    """
    config = config or DEFAULT
    known = history.before(origin)
    if not len(known):
        return Series.empty()
    end = origin + max(1, math.ceil((end - origin) / HORIZON_STEP)) * HORIZON_STEP
    return _forecast(known, origin, end, config)


def _forecast(known: Series, origin: float, end: float, config: ForecasterConfig) -> Series:
    import numpy as np

    step = min(max(known.last_length, config.min_step), config.max_step)
    slots = np.arange(origin, end, step)
    # Past slots just before the origin give the current deviation from the profile.
    level_slots = origin - step * np.arange(max(1, round(config.level_hours * HOUR / step)), 0, -1)
    targets = np.concatenate((level_slots, slots))
    lags = DAY * np.arange(1, config.days + 1)
    weights = config.day_decay ** np.arange(config.days)
    weights[6::7] += config.week_weight  # same weekday: working days and weekends differ
    n_level = len(level_slots)
    # One evaluation for the profile days of every slot plus the actual values of the level slots.
    a = np.concatenate(((targets[:, None] - lags[None, :]).ravel(), level_slots))
    means = known.window_means(a, a + step)
    past = means[: len(targets) * config.days].reshape(len(targets), config.days)
    actual = means[len(targets) * config.days :]
    # Day by day, element-wise: a slot's value never depends on how many slots are forecast (a row-wise sum
    # could take another summation order for another array length).
    total, weighted = np.zeros(len(targets)), np.zeros(len(targets))
    for day in range(config.days):
        usable = ~np.isnan(past[:, day])
        total += np.where(usable, weights[day], 0.0)
        weighted += np.where(usable, past[:, day] * weights[day], 0.0)
    fallback = float(known.view_values()[-max(1, int(DAY // step)) :].mean())
    profile = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), fallback)
    deviation = actual - profile[:n_level]
    ok = ~np.isnan(deviation)
    level = float(deviation[ok].mean()) if ok.any() else 0.0
    lead_hours = (slots - origin) / HOUR
    values = np.maximum(profile[n_level:] + level * config.level_decay**lead_hours, 0.0)
    return Series.from_sorted(slots, slots + step, values)
