"""`mloop models build-docker`: the Dockerfile parses, lints clean, and its context is complete.

The image cannot be built here (no Docker daemon), so the test does the next best thing: it
runs the Dockerfile's own CMD and HEALTHCHECK on this machine against the copied package.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from dockerfile_parse import DockerfileParser
from typer.testing import CliRunner

from mloop.__about__ import __version__
from mloop.cli.main import app
from mloop.client.docker import MODEL_DIR
from mloop.models import read_package

pytestmark = pytest.mark.usefixtures("cli_env")

FEATURES = ["tenure", "charges"]


@pytest.fixture
def backend() -> str:
    """The context is built from files: one store backend is enough."""
    return "sqlite"


def _champion() -> pd.DataFrame:
    from sklearn.linear_model import LogisticRegression

    import mloop
    import mloop.client

    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(200, 2)), columns=FEATURES)
    model = LogisticRegression().fit(train, (train.tenure > 0).astype(int))
    with mloop.start_run():
        mloop.log_model(model, "model", input_example=train.head(10), registered_model_name="churn")
    mloop.client.set_model_alias("churn", "champion", 1)
    return train


def _build(cli: CliRunner, out: Path, *extra: str) -> dict[str, Any]:
    result = cli.invoke(
        app, ["models", "build-docker", "models:/churn@champion", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    parsed = DockerfileParser(str(dockerfile))
    return [
        (i["instruction"], i["value"]) for i in parsed.structure if i["instruction"] != "COMMENT"
    ]


def _hadolint(context: Path) -> subprocess.CompletedProcess[str]:
    """hadolint (installed beside the interpreter) run on the context's Dockerfile."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "hadolint"), "--no-color", "Dockerfile"],
        cwd=context,
        capture_output=True,
        text=True,
        check=False,
    )


def test_dockerfile_is_complete_and_lints_clean(cli: CliRunner, tmp_path: Path) -> None:
    _champion()
    out = tmp_path / "image"

    summary = _build(cli, out, "--json")

    instructions = _instructions(out / "Dockerfile")
    kinds = [kind for kind, _ in instructions]
    values = dict(instructions)  # the last of each kind
    assert kinds[0] == "FROM"
    assert values["FROM"] == f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"
    user = values["USER"]
    assert user.split(":")[0].isdigit()
    assert int(user.split(":")[0]) != 0
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k in ("RUN", "COPY"))
    assert values["EXPOSE"] == "8080"
    assert "/v2/health/ready" in values["HEALTHCHECK"]
    command = json.loads(values["CMD"])
    assert command[:3] == ["mloop", "serve", MODEL_DIR]
    assert command[command.index("--name") + 1] == "churn"
    # Every COPY source exists in the context; the model folder is a whole package.
    for kind, value in instructions:
        if kind == "COPY":
            *sources, _ = value.split()
            assert all((out / source).exists() for source in sources), value
    package = read_package(out / "model")
    for name, recorded in package.files.items():
        assert package.file(name).stat().st_size == recorded["size"]
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert requirements == summary["requirements"]
    assert set(package.requirements) < set(requirements)
    assert requirements[-1].startswith("mloop[server")
    assert requirements[-1].endswith(f"]=={__version__}")
    assert all("==" in line for line in requirements)
    lint = _hadolint(out)
    assert (lint.returncode, lint.stdout, lint.stderr) == (0, "", "")


def test_a_local_wheel_is_copied_in_and_installed_from(cli: CliRunner, tmp_path: Path) -> None:
    _champion()
    wheel = tmp_path / "mloop-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel's bytes")
    out = tmp_path / "image"

    summary = _build(cli, out, "--mloop-wheel", str(wheel), "--json")
    refused = cli.invoke(
        app,
        ["models", "build-docker", "models:/churn/1", "-o", "z", "--mloop-wheel", "notes.txt"],
    )

    assert summary["requirements"][-1] == (
        "mloop[server,onnx] @ file:///opt/mloop/wheels/mloop-0.1.0-py3-none-any.whl"
    )
    assert (out / "wheels" / wheel.name).read_bytes() == b"a wheel's bytes"
    instructions = _instructions(out / "Dockerfile")
    runs = [i for i, (kind, _) in enumerate(instructions) if kind == "RUN"]
    wheel_copy = instructions.index(("COPY", "wheels/ ./wheels/"))
    assert wheel_copy < runs[-1]  # in place before pip installs the requirements
    assert "!wheels/" in (out / ".dockerignore").read_text().splitlines()
    lint = _hadolint(out)
    assert (lint.returncode, lint.stdout) == (0, "")
    assert refused.exit_code == 2
    assert "is not a wheel of mloop" in refused.output
    assert not (tmp_path / "z").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_the_images_command_and_health_check_serve_the_copied_package(
    cli: CliRunner, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """CMD and HEALTHCHECK, run here with the container's paths mapped into the context."""
    train = _champion()
    out = tmp_path / "image"
    port = _free_port()
    _build(cli, out, "--port", str(port), "--json")
    values = dict(_instructions(out / "Dockerfile"))
    command = [
        str(out / "model") if part == MODEL_DIR else part for part in json.loads(values["CMD"])
    ]
    command[command.index("--host") + 1] = "127.0.0.1"
    health = json.loads(values["HEALTHCHECK"].split("CMD", 1)[1])
    # No store: the image has none, so the server must not need the test's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env["MLOOP_HOME"] = str(tmp_path / "container-home")
    server = subprocess.Popen(
        [sys.executable, "-m", "mloop.cli", *command[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        probe = subprocess.run([sys.executable, *health[1:]], check=False, capture_output=True)
        while probe.returncode != 0 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
            probe = subprocess.run([sys.executable, *health[1:]], check=False, capture_output=True)
        assert probe.returncode == 0, probe.stderr
        rows = train.head(5)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/invocations",
            json={"dataframe_split": {"columns": FEATURES, "data": rows.to_numpy().tolist()}},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        import mloop

        expected = mloop.load_model("models:/churn@champion").predict(rows)
        assert answer.json()["predictions"] == expected.tolist()
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_refuses_a_non_empty_folder_and_bad_options(cli: CliRunner, tmp_path: Path) -> None:
    _champion()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")

    busy = cli.invoke(app, ["models", "build-docker", "models:/churn@champion", "-o", "busy"])
    bad_port = cli.invoke(
        app, ["models", "build-docker", "churn-missing", "-o", "x", "--port", "70000"]
    )
    bad_image = cli.invoke(
        app,
        ["models", "build-docker", "models:/churn/1", "-o", "y", "--base-image", "python 3"],
    )

    assert busy.exit_code == 4
    assert "--overwrite" in busy.output
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    assert bad_port.exit_code == 2
    assert "port must be 1-65535" in bad_port.output
    assert bad_image.exit_code == 2
    assert "is not an image name" in bad_image.output
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "y").exists()
