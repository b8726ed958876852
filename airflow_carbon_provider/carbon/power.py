"""How much power a job draws: per-instance-type CPU, memory and GPU watts, times the data centre's PUE.

Method and coefficients follow the Cloud Carbon Footprint methodology (CCF,
https://www.cloudcarbonfootprint.org/docs/methodology/, "Energy estimate" and "Power Usage Effectiveness"):
average watts per vCPU = min + utilisation x (max - min), memory 0.392 W per GB, AWS PUE 1.135.
GPU board powers are the vendors' specified maximum board power (NVIDIA data sheets: A100 SXM4 400 W,
H100 SXM5 700 W, V100 SXM2 300 W, T4 70 W, L4 72 W, A10G 300 W as the power limit nvidia-smi reports on g5).
vCPU, memory and GPU counts are AWS's published instance specifications (https://aws.amazon.com/ec2/instance-types/).
Every figure can be overridden: pass ``watts=`` to skip the table entirely.
"""

from __future__ import annotations

from dataclasses import dataclass

# CCF per-vCPU coefficients for AWS (W at 0 % and 100 % utilisation).
X86_VCPU_WATTS = (0.74, 3.5)
GRAVITON_VCPU_WATTS = (0.47, 1.69)
MEMORY_WATTS_PER_GB = 0.392
PUE = {"aws": 1.135, "gcp": 1.1, "azure": 1.185, "on-prem": 1.58}

GPU_BOARD_WATTS = {"A100": 400.0, "H100": 700.0, "V100": 300.0, "T4": 70.0, "L4": 72.0, "A10G": 300.0}


@dataclass(frozen=True)
class InstanceType:
    vcpus: int
    memory_gb: float
    graviton: bool = False
    gpus: int = 0
    gpu: str | None = None


INSTANCE_TYPES: dict[str, InstanceType] = {
    # x86 general purpose / compute
    "m5.xlarge": InstanceType(4, 16),
    "m5.4xlarge": InstanceType(16, 64),
    "m6i.xlarge": InstanceType(4, 16),
    "m6i.4xlarge": InstanceType(16, 64),
    "c6i.4xlarge": InstanceType(16, 32),
    # Graviton (arm64)
    "m6g.xlarge": InstanceType(4, 16, graviton=True),
    "m7g.xlarge": InstanceType(4, 16, graviton=True),
    "m7g.4xlarge": InstanceType(16, 64, graviton=True),
    "c7g.4xlarge": InstanceType(16, 32, graviton=True),
    # GPU
    "g4dn.xlarge": InstanceType(4, 16, gpus=1, gpu="T4"),
    "g4dn.12xlarge": InstanceType(48, 192, gpus=4, gpu="T4"),
    "g5.xlarge": InstanceType(4, 16, gpus=1, gpu="A10G"),
    "g5.12xlarge": InstanceType(48, 192, gpus=4, gpu="A10G"),
    "g6.xlarge": InstanceType(4, 16, gpus=1, gpu="L4"),
    "p3.2xlarge": InstanceType(8, 61, gpus=1, gpu="V100"),
    "p3.16xlarge": InstanceType(64, 488, gpus=8, gpu="V100"),
    "p4d.24xlarge": InstanceType(96, 1152, gpus=8, gpu="A100"),
    "p5.48xlarge": InstanceType(192, 2048, gpus=8, gpu="H100"),
}


@dataclass(frozen=True)
class PowerModel:
    """The electrical power of one job, in watts at the wall (PUE included)."""

    it_watts: float
    pue: float
    instance_type: str | None = None
    count: int = 1

    def __post_init__(self) -> None:
        if not self.it_watts >= 0:
            raise ValueError(f"watts must be >= 0, got {self.it_watts!r}")
        if not self.pue >= 1:
            raise ValueError(f"pue must be >= 1.0, got {self.pue!r}")

    @property
    def watts(self) -> float:
        return self.it_watts * self.pue * self.count


def power_model(
    instance_type: str | None = None,
    *,
    watts: float | None = None,
    count: int = 1,
    cpu_utilization: float = 0.5,
    gpu_utilization: float = 0.9,
    cloud: str = "aws",
    pue: float | None = None,
) -> PowerModel:
    """Power of ``count`` instances of ``instance_type`` (or of ``watts`` IT power each, which wins)."""
    if cloud not in PUE and pue is None:
        raise ValueError(f"cloud must be one of {sorted(PUE)} (or pass pue=), got {cloud!r}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    for name, value in (("cpu_utilization", cpu_utilization), ("gpu_utilization", gpu_utilization)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    effective_pue = PUE[cloud] if pue is None else pue
    if watts is not None:
        return PowerModel(float(watts), effective_pue, instance_type, count)
    if instance_type is None:
        raise ValueError("give instance_type (one of the known AWS types) or watts")
    spec = INSTANCE_TYPES.get(instance_type)
    if spec is None:
        raise ValueError(
            f"instance_type {instance_type!r} is not in the power table; pass watts= or use one of "
            f"{', '.join(sorted(INSTANCE_TYPES))}"
        )
    low, high = GRAVITON_VCPU_WATTS if spec.graviton else X86_VCPU_WATTS
    cpu = spec.vcpus * (low + cpu_utilization * (high - low))
    memory = spec.memory_gb * MEMORY_WATTS_PER_GB
    gpu = spec.gpus * GPU_BOARD_WATTS[spec.gpu] * gpu_utilization if spec.gpu else 0.0
    return PowerModel(cpu + memory + gpu, effective_pue, instance_type, count)
