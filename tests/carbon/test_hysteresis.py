from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.hysteresis import GateState, GridState, Hysteresis

T0 = datetime(2023, 6, 1, tzinfo=UTC)
GATE = Hysteresis(low=100, high=200, min_dwell=timedelta(minutes=30))


def test_first_value_between_thresholds_starts_dirty() -> None:
    assert GATE.step(None, 150, T0).state is GridState.DIRTY


def test_values_between_thresholds_never_flip_the_gate() -> None:
    state = GATE.step(None, 50, T0)
    for minutes, value in enumerate([150, 199, 101, 180]):
        state = GATE.step(state, value, T0 + timedelta(hours=minutes))
    assert state.state is GridState.CLEAN


def test_crossing_must_last_the_dwell_time() -> None:
    state = GATE.step(None, 250, T0)
    state = GATE.step(state, 80, T0 + timedelta(minutes=10))
    assert state.state is GridState.DIRTY
    state = GATE.step(state, 90, T0 + timedelta(minutes=40))
    assert state.state is GridState.CLEAN
    assert state.since == T0 + timedelta(minutes=40)


def test_a_short_dip_is_forgotten_when_the_signal_returns() -> None:
    state = GATE.step(None, 250, T0)
    state = GATE.step(state, 80, T0 + timedelta(minutes=10))
    state = GATE.step(state, 150, T0 + timedelta(minutes=20))
    state = GATE.step(state, 80, T0 + timedelta(minutes=45))
    assert state.state is GridState.DIRTY


def test_state_round_trips_through_dict() -> None:
    state = GateState(GridState.CLEAN, since=T0, pending_since=T0 + timedelta(minutes=5))
    assert GateState.from_dict(state.to_dict()) == state


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": -1, "high": 10}, "threshold_low"),
        ({"low": 300, "high": 200}, "threshold_high"),
        ({"low": 1, "high": 2, "min_dwell": timedelta(minutes=-1)}, "min_dwell"),
    ],
)
def test_invalid_thresholds_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Hysteresis(**kwargs)  # type: ignore[arg-type]
