"""A compact, read-only view of an intensity series for fast window means.

Parallel numpy arrays of interval starts/ends (epoch seconds) and values, with prefix sums of value x seconds
and of covered seconds, built once. A view is an index range over shared arrays, so the replay slices a year
of data per decision in O(log n) and the planner computes any window mean in O(log n). numpy is imported
lazily: DAG files that only import the sensor do not pay for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import numpy.typing as npt

    from airflow_carbon_provider.carbon.readings import Reading

    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]


def epoch(value: datetime) -> float:
    return value.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


_EMPTY: Series | None = None


class Series:
    """Intervals ``[starts[i], ends[i])`` for ``lo <= i < hi``, sorted and non-overlapping (gaps allowed)."""

    __slots__ = ("covered", "ends", "hi", "integral", "lo", "starts", "values")

    def __init__(  # noqa: PLR0917 -- internal constructor; use from_arrays / from_readings
        self,
        starts: FloatArray,
        ends: FloatArray,
        values: FloatArray,
        integral: FloatArray,
        covered: FloatArray,
        lo: int,
        hi: int,
    ) -> None:
        self.starts, self.ends, self.values = starts, ends, values
        self.integral, self.covered = integral, covered
        self.lo, self.hi = lo, hi

    @classmethod
    def from_arrays(cls, starts: Any, ends: Any, values: Any) -> Series:
        """Build from epoch-second starts/ends and values; sorts, and clips an interval that overlaps the next."""
        import numpy as np

        s = np.asarray(starts, dtype=np.float64)
        e = np.asarray(ends, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if not (s.shape == e.shape == v.shape) or s.ndim != 1:
            raise ValueError("starts, ends and values must be 1-d arrays of equal length")
        order = np.argsort(s, kind="stable")
        s, e, v = s[order], e[order], v[order]
        if len(s) > 1:
            e[:-1] = np.minimum(e[:-1], s[1:])
        if np.any(e <= s):
            raise ValueError("every interval must end after it starts (duplicated start?)")
        if not np.all(np.isfinite(v)):
            raise ValueError("values must be finite")
        return cls.from_sorted(s, e, v)

    @classmethod
    def from_sorted(cls, starts: FloatArray, ends: FloatArray, values: FloatArray) -> Series:
        """Build from arrays already sorted, non-overlapping and finite (internal fast path)."""
        import numpy as np

        lengths = ends - starts
        integral = np.zeros(len(starts) + 1)
        np.cumsum(values * lengths, out=integral[1:])
        covered = np.zeros(len(starts) + 1)
        np.cumsum(lengths, out=covered[1:])
        return cls(starts, ends, values, integral, covered, 0, len(starts))

    @classmethod
    def from_readings(cls, readings: Sequence[Reading]) -> Series:
        return cls.from_arrays(
            [r.start.timestamp() for r in readings],
            [r.end.timestamp() for r in readings],
            [r.intensity for r in readings],
        )

    @classmethod
    def empty(cls) -> Series:
        global _EMPTY  # noqa: PLW0603 -- one shared read-only instance, built on first use (lazy numpy)
        if _EMPTY is None:
            _EMPTY = cls.from_arrays([], [], [])
        return _EMPTY

    def __len__(self) -> int:
        return self.hi - self.lo

    def __repr__(self) -> str:
        if not len(self):
            return "Series(empty)"
        return f"Series({len(self)} intervals, {from_epoch(self.first_start)} .. {from_epoch(self.last_end)})"

    def _view(self, lo: int, hi: int) -> Series:
        lo, hi = max(lo, self.lo), min(hi, self.hi)
        return Series(self.starts, self.ends, self.values, self.integral, self.covered, lo, max(lo, hi))

    def before(self, t: float) -> Series:
        """The intervals that started before ``t`` (strictly: e.g. what a forecast from origin ``t`` may read)."""
        return self._view(self.lo, int(self.starts.searchsorted(t, side="left")))

    def known_at(self, t: float) -> Series:
        """The intervals that started at or before ``t``: what is known at ``t`` (a reading is published when its
        interval starts, as the sources' "latest" endpoints do; only later intervals are future)."""
        return self._view(self.lo, int(self.starts.searchsorted(t, side="right")))

    def ending_after(self, t: float) -> Series:
        """The intervals that end after ``t``."""

        return self._view(int(self.ends.searchsorted(t, side="right")), self.hi)

    def at(self, t: float) -> Series:
        """The interval that contains ``t`` (start <= t < end), or an empty view."""
        i = int(self.starts.searchsorted(t, side="right")) - 1
        if i < self.lo or i >= self.hi or self.ends[i] <= t:
            return self._view(self.lo, self.lo)
        return self._view(i, i + 1)

    def starting_from(self, t: float) -> Series:

        return self._view(int(self.starts.searchsorted(t, side="left")), self.hi)

    @property
    def first_start(self) -> float:
        return float(self.starts[self.lo])

    @property
    def last_end(self) -> float:
        return float(self.ends[self.hi - 1])

    @property
    def last_value(self) -> float:
        return float(self.values[self.hi - 1])

    @property
    def last_length(self) -> float:
        return float(self.ends[self.hi - 1] - self.starts[self.hi - 1])

    def view_values(self) -> FloatArray:
        return self.values[self.lo : self.hi]

    def view_starts(self) -> FloatArray:
        return self.starts[self.lo : self.hi]

    def view_ends(self) -> FloatArray:
        return self.ends[self.lo : self.hi]

    def _prefix(self, t: Any) -> tuple[FloatArray, FloatArray]:
        """Integral of value and covered seconds from the view's first start up to each ``t``."""
        import numpy as np

        lo, hi = self.lo, self.hi
        starts, ends = self.starts, self.ends
        t = np.minimum(np.maximum(np.asarray(t, dtype=np.float64), starts[lo]), ends[hi - 1])
        i = starts.searchsorted(t, side="right") - 1
        i = np.minimum(np.maximum(i, lo), hi - 1)
        begin = starts[i]
        inside = np.minimum(np.maximum(t - begin, 0.0), ends[i] - begin)
        return (
            self.integral[i] + self.values[i] * inside - self.integral[lo],
            self.covered[i] + inside - self.covered[lo],
        )

    def window_sums(self, a: Any, b: Any) -> tuple[FloatArray, FloatArray]:
        """For windows ``[a, b)`` (arrays of one shape): integral of value x seconds and the seconds with data."""
        import numpy as np

        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            a, b = np.broadcast_arrays(a, b)
        if not len(self):
            return np.zeros(a.shape), np.zeros(a.shape)
        n = a.size
        integral, covered = self._prefix(np.concatenate((a.ravel(), b.ravel())))
        return (
            (integral[n:] - integral[:n]).reshape(a.shape),
            (covered[n:] - covered[:n]).reshape(a.shape),
        )

    def window_means(self, a: Any, b: Any) -> FloatArray:
        """Time-weighted mean over each ``[a, b)``, partial intervals weighted by overlap; NaN without data."""
        import numpy as np

        sums, covered = self.window_sums(a, b)
        return np.divide(sums, covered, out=np.full_like(sums, np.nan), where=covered > 0)

    def coverage(self, a: float, b: float) -> float:
        """Fraction of ``[a, b)`` that has data."""
        if b <= a:
            return 1.0
        _, covered = self.window_sums([a], [b])
        return float(covered[0]) / (b - a)

    def covers(self, a: float, b: float) -> bool:
        """Whether every instant of ``[a, b)`` has data (O(1) for a view without gaps)."""
        return bool(self.covers_many(a, [b])[0])

    def covers_many(self, a: float, ends: Any) -> BoolArray:
        """:meth:`covers` for one start ``a`` and an array of ends (a boolean array)."""
        import numpy as np

        b: FloatArray = np.asarray(ends, dtype=np.float64)
        if not len(self) or self.first_start > a:
            return np.zeros(b.shape, dtype=bool)
        inside: BoolArray = b <= self.last_end
        spanned = self.last_end - self.first_start
        if float(self.covered[self.hi] - self.covered[self.lo]) >= spanned - 1e-6:
            return inside
        result = inside.copy()
        check = inside & (b > a)
        if check.any():
            _, covered = self.window_sums(np.full(int(check.sum()), a), b[check])
            result[check] = covered / (b[check] - a) >= 1 - 1e-9
        return result

    def boundaries(self, a: float, b: float) -> FloatArray:
        """Interval starts and ends inside ``(a, b]`` (unsorted, may repeat)."""
        import numpy as np

        s, e = self.view_starts(), self.view_ends()
        return np.concatenate(
            (
                s[s.searchsorted(a, side="right") : s.searchsorted(b, side="right")],
                e[e.searchsorted(a, side="right") : e.searchsorted(b, side="right")],
            )
        )

    def concat(self, later: Series) -> Series:
        """This view followed by the part of ``later`` that starts at or after this view's end."""
        if not len(self):
            return later
        tail = later.starting_from(self.last_end)
        if not len(tail):
            return self
        import numpy as np

        return Series.from_arrays(
            np.concatenate((self.view_starts(), tail.view_starts())),
            np.concatenate((self.view_ends(), tail.view_ends())),
            np.concatenate((self.view_values(), tail.view_values())),
        )
