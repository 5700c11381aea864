"""Where mloop keeps things, from the environment; only `client/`, `cli/` and `server/` read it.

With nothing set, the home is the nearest `.mloop/` folder in the working directory or one of its
parents (as git finds its repository), else `./.mloop/`, holding `mloop.db` (SQLite) and
`artifacts/`. `MLOOP_HOME`, `MLOOP_TRACKING_URI` and `MLOOP_ARTIFACT_URI` override parts of that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOME_DIR_NAME = ".mloop"
DB_FILE_NAME = "mloop.db"
ARTIFACTS_DIR_NAME = "artifacts"


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved locations and switches.

    Attributes:
        home: the local home folder (holds the SQLite file and local artifacts by default).
        tracking_uri: the metadata store (`sqlite:///...`, `postgresql://...`).
        artifact_uri: the root under which artifacts are stored.
        experiment_name: experiment to log to when none was set in code (`MLOOP_EXPERIMENT_NAME`).
        log_system_metrics: sample CPU and memory during runs (`MLOOP_LOG_SYSTEM_METRICS=1`).
        tracking_token: API token sent to an `http(s)://` tracking server
            (`MLOOP_TRACKING_TOKEN`).
    """

    home: Path
    tracking_uri: str
    artifact_uri: str
    experiment_name: str | None = None
    log_system_metrics: bool = False
    tracking_token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        """Resolve settings from environment variables and the working directory."""
        env = os.environ if env is None else env
        cwd = Path.cwd() if cwd is None else cwd
        home = _absolute(cwd, env["MLOOP_HOME"]) if env.get("MLOOP_HOME") else find_home(cwd)
        tracking_uri = env.get("MLOOP_TRACKING_URI") or f"sqlite:///{home / DB_FILE_NAME}"
        artifact_uri = env.get("MLOOP_ARTIFACT_URI") or str(home / ARTIFACTS_DIR_NAME)
        if "://" not in artifact_uri:
            # Runs store their artifact location; a relative one would move with the cwd.
            artifact_uri = str(_absolute(cwd, artifact_uri))
        return cls(
            home=home,
            tracking_uri=tracking_uri,
            artifact_uri=artifact_uri,
            experiment_name=env.get("MLOOP_EXPERIMENT_NAME") or None,
            log_system_metrics=env.get("MLOOP_LOG_SYSTEM_METRICS", "").lower()
            in {"1", "true", "yes", "on"},
            tracking_token=env.get("MLOOP_TRACKING_TOKEN") or None,
        )

    @property
    def is_embedded(self) -> bool:
        """True when the metadata store is the local SQLite file under `home`."""
        return self.tracking_uri == f"sqlite:///{self.home / DB_FILE_NAME}"


def _absolute(cwd: Path, path: str) -> Path:
    """`path` with `~` expanded, made absolute against `cwd` (not the process's directory)."""
    return Path(os.path.abspath(cwd / Path(path).expanduser()))


def find_home(start: Path) -> Path:
    """The nearest existing `.mloop/` in `start` or its parents, else `start/.mloop`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / HOME_DIR_NAME
        if candidate.is_dir():
            return candidate
    return start / HOME_DIR_NAME
