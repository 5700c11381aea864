"""The experiment store over `/api/v1/experiments`."""

from __future__ import annotations

from urllib.parse import quote

from mloop.entities import Experiment
from mloop.entities.validation import validate_experiment_id
from mloop.errors import ExperimentNotFoundError
from mloop.storage.rest import codec
from mloop.storage.rest.transport import Transport

_BASE = "/api/v1/experiments"


class RestExperimentStore:
    """Experiments on a remote `mloop server`.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Experiment:
        """Create an experiment.

        Raises:
            ExperimentAlreadyExistsError: the name is taken.
            InvalidInputError: the name or a tag is invalid.
        """
        body = {"name": name, "artifact_location": artifact_location, "tags": tags or {}}
        return codec.experiment(self._http.request("POST", _BASE, body=body))

    def get(self, experiment_id: str) -> Experiment:
        """The experiment with this id.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        return codec.experiment(self._http.request("GET", f"{_BASE}/{_segment(experiment_id)}"))

    def get_by_name(self, name: str) -> Experiment:
        """The experiment with this name.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        data = self._http.request("GET", f"{_BASE}/by-name", params={"name": name})
        return codec.experiment(data)

    def find_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""
        try:
            return self.get_by_name(name)
        except ExperimentNotFoundError:
            return None

    def list(self, *, include_deleted: bool = False) -> list[Experiment]:
        """All experiments, by id."""
        params = {"include_deleted": "true"} if include_deleted else None
        data = self._http.request("GET", _BASE, params=params)
        return [codec.experiment(e) for e in data["experiments"]]

    def rename(self, experiment_id: str, new_name: str) -> Experiment:
        """Give an experiment a new name.

        Raises:
            ExperimentNotFoundError: no such experiment.
            ExperimentAlreadyExistsError: the new name is taken.
        """
        path = f"{_BASE}/{_segment(experiment_id)}"
        return codec.experiment(self._http.request("PATCH", path, body={"name": new_name}))

    def delete(self, experiment_id: str) -> None:
        """Soft-delete an experiment.

        Raises:
            ExperimentNotFoundError: no such experiment.
            InvalidStateError: it is the default experiment.
        """
        self._http.request("DELETE", f"{_BASE}/{_segment(experiment_id)}")

    def restore(self, experiment_id: str) -> None:
        """Undo `delete`.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        self._http.request("POST", f"{_BASE}/{_segment(experiment_id)}/restore")

    def set_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set (or overwrite) a tag on an experiment.

        Raises:
            ExperimentNotFoundError: no such experiment.
            InvalidInputError: the key or value is invalid.
        """
        path = f"{_BASE}/{_segment(experiment_id)}/tags"
        self._http.request("POST", path, body={"key": key, "value": value})

    def delete_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment.

        Raises:
            ExperimentNotFoundError: no such experiment.
            NotFoundError: the experiment has no tag `key`.
        """
        path = f"{_BASE}/{_segment(experiment_id)}/tags/{quote(key, safe='')}"
        self._http.request("DELETE", path)


def _segment(experiment_id: str) -> str:
    """An experiment id checked here, so a malformed one cannot reach another route."""
    validate_experiment_id(experiment_id)
    return experiment_id
