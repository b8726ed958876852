import pytest

from airflow_carbon_provider.carbon.power import power_model


def test_gpu_instance_power_adds_cpu_memory_and_gpu_boards_times_pue() -> None:
    model = power_model("p4d.24xlarge", cpu_utilization=1.0, gpu_utilization=1.0)
    it_watts = 96 * 3.5 + 1152 * 0.392 + 8 * 400
    assert model.watts == pytest.approx(it_watts * 1.135)


def test_graviton_uses_its_lower_per_vcpu_coefficients() -> None:
    arm = power_model("m7g.xlarge", cpu_utilization=0.0)
    x86 = power_model("m6i.xlarge", cpu_utilization=0.0)
    assert arm.it_watts == pytest.approx(4 * 0.47 + 16 * 0.392)
    assert arm.watts < x86.watts


def test_explicit_watts_override_the_table() -> None:
    assert power_model("p4d.24xlarge", watts=1000, pue=1.2, count=2).watts == pytest.approx(2400)


def test_unknown_instance_type_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"instance_type 'x1\.huge' is not in the power table.*g5\.xlarge"):
        power_model("x1.huge")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"watts": -1}, "watts must be >= 0"),
        ({"watts": 10, "pue": 0.9}, "pue must be >= 1.0"),
        ({"watts": 10, "cloud": "moon"}, "cloud must be one of"),
        ({"watts": 10, "count": 0}, "count must be >= 1"),
        ({"instance_type": "m5.xlarge", "cpu_utilization": 2}, "cpu_utilization must be between 0 and 1"),
        ({}, "give instance_type"),
    ],
)
def test_bad_power_parameters_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        power_model(**kwargs)  # type: ignore[arg-type]
