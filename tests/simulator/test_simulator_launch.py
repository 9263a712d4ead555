"""``--api-url sim:`` (reconciler/simulator/launch.py) and env overrides (config.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from reconciler.errors import UsageError
from reconciler.simulator import start_for_url
from reconciler.simulator.launch import sim_config

SESSIONS = "/subscriptions/2001234/databases/51170941"


def test_sim_uses_a_state_file_in_the_folder(tmp_path: Path) -> None:
    config = sim_config("sim:", tmp_path, {})
    assert config.state_path == tmp_path / ".reconciler-sim.json"
    assert config.seed_path is None  # no examples/ here: the packaged seed
    assert (config.port, config.task_seconds, config.provision_seconds) == (0, 0.3, 0.5)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("other.json", "other.json"),
        ("sub", "sub/.reconciler-sim.json"),
        ("/abs/x.json", "/abs/x.json"),
    ],
)
def test_sim_path(tmp_path: Path, target: str, expected: str) -> None:
    (tmp_path / "sub").mkdir()
    assert sim_config(f"sim:{target}", tmp_path, {}).state_path == tmp_path / expected


def test_sim_prefers_the_local_example_seed(tmp_path: Path) -> None:
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "simulator-seed.yaml").write_text("account: {id: 3}\n")
    assert (
        sim_config("sim:", tmp_path, {}).seed_path == tmp_path / "examples" / "simulator-seed.yaml"
    )


def test_not_a_sim_url(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        sim_config("http://localhost", tmp_path, {})
    assert str(caught.value) == "not a simulator URL (expected sim: or sim:PATH): http://localhost"


CHILD = textwrap.dedent(
    """
    import json, urllib.request
    from reconciler.simulator import start_for_url
    with start_for_url("sim:") as sim:
        request = urllib.request.Request(
            sim.url + "{path}", method="PUT", data=json.dumps({{"datasetSizeInGb": 2}}).encode(),
            headers={{"x-api-key": sim.api_key, "x-api-secret-key": sim.api_secret,
                      "Content-Type": "application/json"}})
        print(json.loads(urllib.request.urlopen(request).read())["taskId"])
    """
)


def test_state_is_shared_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {
        **os.environ,
        "RECONCILER_SIM_TASK_SECONDS": "0",
        "RECONCILER_SIM_PROVISION_SECONDS": "0",
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(path=SESSIONS)],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    task_id = child.stdout.strip()
    assert (tmp_path / ".reconciler-sim.json").is_file()

    monkeypatch.chdir(tmp_path)
    with start_for_url("sim:") as sim, requests.Session() as session:
        session.headers.update({"x-api-key": sim.api_key, "x-api-secret-key": sim.api_secret})
        assert session.get(f"{sim.url}/tasks/{task_id}").json()["status"] == "processing-completed"
        assert session.get(sim.url + SESSIONS).json()["datasetSizeInGb"] == 2.0
