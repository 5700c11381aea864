"""MLflow's artifact proxy: `mlflow.log_artifact(s)`, listing and downloads through mloop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import LiveServer


def test_artifacts_are_uploaded_listed_and_downloaded(
    mlflow_server: LiveServer, tmp_path: Path
) -> None:
    import mlflow

    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "nested" / "b.bin").write_bytes(bytes(range(256)) * 10_000)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source / "a.txt"))
        mlflow.log_artifacts(str(source), artifact_path="folder")
        mlflow.log_text("some text", "notes/readme.md")
        mlflow.log_dict({"k": [1, 2]}, "config.json")
    client = mlflow.MlflowClient()
    run_id = run.info.run_id
    top = {(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)}
    assert top == {
        ("a.txt", False, 5),
        ("config.json", False, len('{\n  "k": [\n    1,\n    2\n  ]\n}')),
        ("folder", True, None),
        ("notes", True, None),
    }
    assert [f.path for f in client.list_artifacts(run_id, "folder/nested")] == [
        "folder/nested/b.bin"
    ]
    assert client.list_artifacts(run_id, "a.txt") == []
    target = tmp_path / "out"
    target.mkdir()
    local = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(target))
    assert (Path(local) / "folder" / "nested" / "b.bin").read_bytes() == (
        source / "nested" / "b.bin"
    ).read_bytes()
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.md") == "some text"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"k": [1, 2]}


def test_the_proxy_refuses_paths_outside_runs(live_server: LiveServer, client: Any) -> None:
    run = client.create_run("0")
    run_id = run.info.run_id
    http = live_server.client
    base = "/api/2.0/mlflow-artifacts/artifacts"
    stored = http.put(f"{base}/0/{run_id}/artifacts/dir/x.txt", content=b"x")
    assert stored.status_code == 200
    assert http.get(f"{base}/0/{run_id}/artifacts/dir/x.txt").content == b"x"
    listed = http.get(base, params={"path": f"0/{run_id}/artifacts/dir"}).json()
    assert listed == {"files": [{"path": "x.txt", "is_dir": False, "file_size": 1}]}
    for method, path, code in (
        # The HTTP client removes dot segments before sending: this arrives as 0/escape.txt.
        ("PUT", f"0/{run_id}/artifacts/../../escape.txt", "RESOURCE_DOES_NOT_EXIST"),
        ("PUT", f"0/{'e' * 32}/artifacts/x.txt", "RESOURCE_DOES_NOT_EXIST"),
        ("PUT", f"7/{run_id}/artifacts/x.txt", "RESOURCE_DOES_NOT_EXIST"),
        ("PUT", "some/other/place.txt", "RESOURCE_DOES_NOT_EXIST"),
        ("GET", f"0/{run_id}/artifacts/absent.txt", "RESOURCE_DOES_NOT_EXIST"),
        ("GET", f"0/{run_id}/artifacts", "RESOURCE_DOES_NOT_EXIST"),
        ("GET", f"0/models/m-{'0' * 32}/artifacts/MLmodel", "RESOURCE_DOES_NOT_EXIST"),
    ):
        answer = http.request(method, f"{base}/{path}", content=b"data")
        assert answer.json()["error_code"] == code, (method, path)
        assert answer.status_code in (400, 404)
    # In a query string `..` arrives as it is, and is refused.
    escape = http.get(base, params={"path": f"0/{run_id}/artifacts/../../.."})
    assert (escape.status_code, escape.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    # %2e%2e is decoded by the server before routing, and refused the same way.
    encoded = http.put(f"{base}/0/{run_id}/artifacts/%2e%2e/%2e%2e/x.txt", content=b"x")
    assert encoded.status_code in (400, 404)
    assert [f.path for f in client.list_artifacts(run_id)] == ["dir"]


@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"])
def test_both_proxy_prefixes_serve_files(live_server: LiveServer, client: Any, prefix: str) -> None:
    run_id = client.create_run("0").info.run_id
    path = f"{prefix}/artifacts/0/{run_id}/artifacts/f.txt"
    assert live_server.client.put(path, content=b"hello").status_code == 200
    download = live_server.client.get(path)
    assert download.content == b"hello"
    assert download.headers["content-type"].startswith("text/plain")


def test_artifacts_are_deleted_through_the_proxy(live_server: LiveServer, client: Any) -> None:
    run_id = client.create_run("0").info.run_id
    base = f"/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts"
    for name in ("keep.txt", "dir/a.txt", "dir/b.txt"):
        assert live_server.client.put(f"{base}/{name}", content=b"x").status_code == 200
    assert live_server.client.delete(f"{base}/dir").json() == {}
    assert [f.path for f in client.list_artifacts(run_id)] == ["keep.txt"]
    missing = live_server.client.delete(
        f"/api/2.0/mlflow-artifacts/artifacts/0/{'d' * 32}/artifacts"
    )
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_a_file_larger_than_the_body_limit_streams_through_the_proxy(
    mlflow_server: LiveServer, tmp_path: Path
) -> None:
    import mlflow

    # Past the server's 16 MB request limit and the 8 MB spool threshold.
    big = tmp_path / "weights.bin"
    big.write_bytes(bytes(range(256)) * (17 * 4096))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big))
    out = tmp_path / "out"
    out.mkdir()
    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="weights.bin", dst_path=str(out)
    )
    assert Path(local).read_bytes() == big.read_bytes()
