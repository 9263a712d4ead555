"""``--api-url sim:`` — an in-process simulator whose account outlives the process.

``sim:`` keeps the state in ``.reconciler-sim.json`` in the current folder; ``sim:PATH``
keeps it in PATH (or in ``PATH/.reconciler-sim.json`` when PATH is a folder). The first
run seeds it from ``examples/simulator-seed.yaml`` in the current folder when that exists,
else from the packaged example seed. Timings are short so a demo apply takes seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.simulator.config import SimulatorConfig, config_from_env, default_environ
from reconciler.simulator.server import RunningSimulator, serve_in_background

SIM_SCHEME = "sim:"
STATE_FILE_NAME = ".reconciler-sim.json"
LOCAL_SEED = Path("examples") / "simulator-seed.yaml"
DEMO_TASK_SECONDS = 0.3
DEMO_PROVISION_SECONDS = 0.5


def sim_config(spec: str, cwd: Path, environ: Mapping[str, str]) -> SimulatorConfig:
    """Return the configuration ``start_for_url(spec)`` uses, relative to folder ``cwd``.

    Raises:
        UsageError: ``spec`` does not start with ``sim:``, or an env variable is invalid.
    """
    if not spec.startswith(SIM_SCHEME):
        raise UsageError(f"not a simulator URL (expected sim: or sim:PATH): {spec}")
    target = spec[len(SIM_SCHEME) :].strip()
    if not target:
        state_path = cwd / STATE_FILE_NAME
    else:
        state_path = Path(target).expanduser()
        if not state_path.is_absolute():
            state_path = cwd / state_path
        if state_path.is_dir():
            state_path = state_path / STATE_FILE_NAME
    local_seed = cwd / LOCAL_SEED
    base = SimulatorConfig(
        port=0,
        state_path=state_path,
        seed_path=local_seed if local_seed.is_file() else None,
        task_seconds=DEMO_TASK_SECONDS,
        provision_seconds=DEMO_PROVISION_SECONDS,
    )
    return config_from_env(base, environ)


def start_for_url(spec: str) -> RunningSimulator:
    """Start the in-process simulator for ``--api-url sim:`` / ``sim:PATH``.

    The caller stops it (``.stop()`` or ``with``) when done; the state is saved after every
    change anyway.

    Raises:
        UsageError: a bad URL, env variable, state or seed file; a state folder that does
            not exist.
    """
    config = sim_config(spec, Path.cwd(), default_environ())
    folder = config.state_path.parent if config.state_path else None
    if folder is not None and not folder.is_dir():
        raise UsageError(f"simulator state folder does not exist: {folder} (in {spec})")
    return serve_in_background(config)
