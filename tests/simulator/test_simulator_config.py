"""Simulator settings (reconciler/simulator/config.py)."""

from __future__ import annotations

import pytest

from reconciler.errors import UsageError
from reconciler.simulator import SimulatorConfig
from reconciler.simulator.config import config_from_env


def test_env_overrides() -> None:
    environ = {
        "RECONCILER_SIM_TASK_SECONDS": "0.05",
        "RECONCILER_SIM_PROVISION_SECONDS": "0",
        "RECONCILER_SIM_LATENCY_MS": "12.5",
        "RECONCILER_SIM_FAULT_RATE": "0.1",
        "RECONCILER_SIM_FAULT_SEED": "9",
        "RECONCILER_SIM_RATE_LIMIT": "400",
        "RECONCILER_SIM_UNRELATED": "x",
    }
    config = config_from_env(SimulatorConfig(), environ)
    assert (config.task_seconds, config.provision_seconds, config.latency_ms) == (0.05, 0.0, 12.5)
    assert (config.fault_rate, config.fault_seed, config.rate_limit) == (0.1, 9, 400)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"RECONCILER_SIM_TASK_SECONDS": "fast"},
            "RECONCILER_SIM_TASK_SECONDS='fast' is not a valid number",
        ),
        (
            {"RECONCILER_SIM_RATE_LIMIT": "1.5"},
            "RECONCILER_SIM_RATE_LIMIT='1.5' is not a valid number",
        ),
        ({"RECONCILER_SIM_FAULT_RATE": "2"}, "simulator fault_rate must be between 0 and 1"),
        ({"RECONCILER_SIM_LATENCY_MS": "-1"}, "simulator latency_ms must not be negative"),
    ],
)
def test_bad_env_values(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        config_from_env(SimulatorConfig(), environ)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"task_seconds": -1}, "simulator task_seconds must not be negative"),
        ({"provision_seconds": -0.5}, "simulator provision_seconds must not be negative"),
        ({"rate_limit": -1}, "simulator rate_limit must not be negative"),
        ({"fault_rate": 1.5}, "simulator fault_rate must be between 0 and 1"),
    ],
)
def test_invalid_settings(overrides: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        SimulatorConfig(**overrides)  # type: ignore[arg-type]
    assert str(caught.value) == message
