"""Simulated forecast errors: the recorded series plus Gaussian noise (the model of Wiesner et al., Middleware '21).

Each data point gets noise with sigma = ``error`` x the series' time-weighted mean intensity, one draw per point
in time order from ``numpy.random.default_rng(seed)``, fixed for a whole run. The replay CLI's ``forecast`` policy
and the replay source's noisy forecast draw the same noise for the same file, error and seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_carbon_provider.carbon.series import FloatArray


def forecast_noise(values: FloatArray, lengths: FloatArray, *, error: float, seed: int) -> FloatArray:
    """The noise to add to each of ``values`` (intervals of ``lengths`` seconds)."""
    import numpy as np

    if not 0 <= error < 10:
        raise ValueError(f"forecast error must be a fraction >= 0 such as 0.05, got {error!r}")
    total = float(np.sum(lengths))
    sigma = error * float(np.sum(values * lengths)) / total if total > 0 else 0.0
    if sigma <= 0:
        return np.zeros(len(values))
    return np.random.default_rng(seed).normal(0.0, sigma, len(values))
