"""Reads an MLflow tracking server over its REST API (`/api/2.0/mlflow/...`), for the importer.

Everything goes through the documented endpoints an MLflow client uses: experiment and run
search (deleted ones included), metric history, the registry searches, and artifact listing and
download through the server (`artifacts/list`, `get-artifact`), so artifacts are reached
wherever the server keeps them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from mloop.entities import Metric, RunInput
from mloop.errors import StorageError
from mloop.storage.mlflow_source import (
    MlflowExperiment,
    MlflowModel,
    MlflowModelVersion,
    MlflowRun,
)

API = "/api/2.0/mlflow"
_PAGE = 1000
_HISTORY_PAGE = 25_000


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {t["key"]: str(t.get("value", "")) for t in items or []}


class RestMlflowReader:
    """An MLflow tracking server, read through its REST API.

    Args:
        uri: the server's base URL, as MLflow's `MLFLOW_TRACKING_URI` (`http(s)://host:port`).
        token: sent as `Authorization: Bearer` (MLflow's `MLFLOW_TRACKING_TOKEN`).
        basic_auth: (user, password) for HTTP basic auth (`MLFLOW_TRACKING_USERNAME/PASSWORD`).
        timeout_s: per-request timeout.
    """

    def __init__(
        self,
        uri: str,
        *,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.uri = uri.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.uri, headers=headers, auth=basic_auth, timeout=timeout_s
        )
        self._runs: list[MlflowRun] | None = None
        self._metric_keys: dict[str, list[str]] = {}
        self._inputs: dict[str, list[RunInput]] = {}

    def _call(self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot reach the MLflow server at {self.uri}: {exc}") from exc
        if missing_ok and response.status_code == 404:
            return {}
        if response.status_code != 200:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise StorageError(
                f"the MLflow server at {self.uri} answered {response.status_code} to {path}: "
                f"{str(message)[:500]}; check the URL and MLFLOW_TRACKING_TOKEN (or "
                "MLFLOW_TRACKING_USERNAME/PASSWORD)"
            )
        return response.json()

    def _pages(
        self, method: str, path: str, key: str, *, missing_ok: bool = False, **body: Any
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            args: dict[str, Any] = {**body, **({"page_token": token} if token else {})}
            if method == "GET":
                found = self._call("GET", path, missing_ok=missing_ok, params=args)
            else:
                found = self._call("POST", path, missing_ok=missing_ok, json=args)
            yield from found.get(key, [])
            token = found.get("next_page_token")
            if not token:
                return

    def experiments(self) -> list[MlflowExperiment]:
        """Every experiment, deleted ones included, by id."""
        found = [
            MlflowExperiment(
                experiment_id=str(e["experiment_id"]),
                name=e["name"],
                is_deleted=e.get("lifecycle_stage") == "deleted",
                tags=_tags(e.get("tags")),
            )
            for e in self._pages(
                "GET",
                f"{API}/experiments/search",
                "experiments",
                view_type="ALL",
                max_results=_PAGE,
            )
        ]
        return sorted(found, key=lambda e: int(e.experiment_id))

    def _all_runs(self) -> list[MlflowRun]:
        if self._runs is None:
            self._runs = []
            for experiment in self.experiments():
                for run in self._pages(
                    "POST",
                    f"{API}/runs/search",
                    "runs",
                    experiment_ids=[experiment.experiment_id],
                    run_view_type="ALL",
                    max_results=_PAGE,
                ):
                    self._runs.append(self._to_run(run))
            self._runs.sort(key=lambda r: r.run_id)
        return self._runs

    def _to_run(self, found: dict[str, Any]) -> MlflowRun:
        info, data = found["info"], found.get("data", {})
        run_id = info["run_id"]
        self._metric_keys[run_id] = sorted({m["key"] for m in data.get("metrics", [])})
        self._inputs[run_id] = [
            RunInput(
                name=d["dataset"]["name"],
                digest=d["dataset"]["digest"],
                source=str(d["dataset"].get("source", ""))[:1000],
                context=_tags(d.get("tags")).get("mlflow.data.context", ""),
            )
            for d in found.get("inputs", {}).get("dataset_inputs", [])
        ]
        tags = _tags(data.get("tags"))
        return MlflowRun(
            run_id=run_id,
            experiment_id=str(info["experiment_id"]),
            name=info.get("run_name") or tags.get("mlflow.runName", ""),
            user_id=info.get("user_id", ""),
            status=info.get("status", "FINISHED"),
            start_time_ms=int(info.get("start_time", 0)),
            end_time_ms=int(info["end_time"]) if info.get("end_time") is not None else None,
            is_deleted=info.get("lifecycle_stage") == "deleted",
            artifact_uri=info.get("artifact_uri", ""),
            params={p["key"]: str(p.get("value", "")) for p in data.get("params", [])},
            tags=tags,
        )

    def count_runs(self) -> int:
        """How many runs there are."""
        return len(self._all_runs())

    def runs(self) -> Iterator[MlflowRun]:
        """Every run with its params and tags, by run id."""
        yield from self._all_runs()

    def metric_history(self, run_id: str) -> list[Metric]:
        """Every point of every metric of a run."""
        points: list[Metric] = []
        for key in self._metric_keys.get(run_id, []):
            for m in self._pages(
                "GET",
                f"{API}/metrics/get-history",
                "metrics",
                run_id=run_id,
                metric_key=key,
                max_results=_HISTORY_PAGE,
            ):
                # float() reads the "NaN" / "Infinity" text some servers send, too.
                value = float(m.get("value", math.nan))
                points.append(Metric(key, value, int(m.get("timestamp", 0)), int(m.get("step", 0))))
        return points

    def inputs(self, run_id: str) -> list[RunInput]:
        """The datasets a run consumed."""
        return list(self._inputs.get(run_id, []))

    def models(self) -> list[MlflowModel]:
        """Registered models with their versions and aliases, by name.

        A server without a model registry (404 on its search) has none.
        """
        models = []
        for found in self._pages(
            "GET",
            f"{API}/registered-models/search",
            "registered_models",
            missing_ok=True,
            max_results=_PAGE,
        ):
            name = found["name"]
            quoted = name.replace("'", "\\'")
            versions = [
                MlflowModelVersion(
                    version=int(v["version"]),
                    source=v.get("source", ""),
                    run_id=v.get("run_id") or None,
                    description=v.get("description", ""),
                    tags=_tags(v.get("tags")),
                )
                for v in self._pages(
                    "GET",
                    f"{API}/model-versions/search",
                    "model_versions",
                    filter=f"name = '{quoted}'",
                    max_results=_PAGE,
                )
            ]
            models.append(
                MlflowModel(
                    name=name,
                    description=found.get("description", ""),
                    tags=_tags(found.get("tags")),
                    versions=tuple(sorted(versions, key=lambda v: v.version)),
                    aliases={a["alias"]: int(a["version"]) for a in found.get("aliases", [])},
                )
            )
        return sorted(models, key=lambda m: m.name)

    def artifact_dir(self, run: MlflowRun, scratch: Path) -> Path | None:
        """The run's artifacts, downloaded through the server into `scratch/<run_id>`."""
        destination = scratch / run.run_id
        pending = [""]
        while pending:
            path = pending.pop()
            params = {"run_id": run.run_id, **({"path": path} if path else {})}
            for entry in self._call("GET", f"{API}/artifacts/list", params=params).get("files", []):
                if entry.get("is_dir"):
                    pending.append(entry["path"])
                    continue
                self._download(run.run_id, entry["path"], destination)
        return destination

    def _download(self, run_id: str, path: str, destination: Path) -> None:
        target = (destination / path).resolve()
        if not target.is_relative_to(destination.resolve()):
            raise StorageError(f"the MLflow server listed an artifact outside its run: {path!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        params = {"run_uuid": run_id, "path": path}
        try:
            with self._http.stream("GET", "/get-artifact", params=params) as response:
                if response.status_code != 200:
                    raise StorageError(
                        f"downloading artifact {path!r} of run {run_id} from {self.uri} failed "
                        f"with HTTP {response.status_code}"
                    )
                with target.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot reach the MLflow server at {self.uri}: {exc}") from exc

    def close(self) -> None:
        """Close the connections."""
        self._http.close()
