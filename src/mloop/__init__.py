"""mloop: the whole machine-learning model lifecycle as one loop.

`import mloop` is light: it loads the version and the error classes, nothing else. The fluent API
(`mloop.start_run`, `mloop.log_metric`, `MloopClient` ...) loads on first use of any of its names,
so a command or a server that never tracks a run does not pay for the client; SQLAlchemy, pandas,
scikit-learn, FastAPI and typer load only where they are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.__about__ import __version__ as __version__
from mloop.errors import AlreadyExistsError as AlreadyExistsError
from mloop.errors import ConfigurationError as ConfigurationError
from mloop.errors import InvalidInputError as InvalidInputError
from mloop.errors import InvalidStateError as InvalidStateError
from mloop.errors import MloopError as MloopError
from mloop.errors import NotFoundError as NotFoundError
from mloop.errors import StorageError as StorageError

if TYPE_CHECKING:
    from mloop.client import ActiveRun as ActiveRun
    from mloop.client import MloopClient as MloopClient
    from mloop.client import delete_run as delete_run
    from mloop.client import end_run as end_run
    from mloop.client import flush as flush
    from mloop.client import get_run as get_run
    from mloop.client import load_model as load_model
    from mloop.client import log_artifact as log_artifact
    from mloop.client import log_artifacts as log_artifacts
    from mloop.client import log_dict as log_dict
    from mloop.client import log_figure as log_figure
    from mloop.client import log_input as log_input
    from mloop.client import log_metric as log_metric
    from mloop.client import log_metrics as log_metrics
    from mloop.client import log_model as log_model
    from mloop.client import log_param as log_param
    from mloop.client import log_params as log_params
    from mloop.client import log_text as log_text
    from mloop.client import register_model as register_model
    from mloop.client import restore_run as restore_run
    from mloop.client import search_runs as search_runs
    from mloop.client import set_experiment as set_experiment
    from mloop.client import set_tag as set_tag
    from mloop.client import set_tags as set_tags
    from mloop.client import set_tracking_uri as set_tracking_uri
    from mloop.client import start_run as start_run
    from mloop.client.active_run import active_run as active_run


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        import mloop.client

        value = getattr(mloop.client, name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'mloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _CLIENT_NAMES)


__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "ConfigurationError",
    "InvalidInputError",
    "InvalidStateError",
    "MloopClient",
    "MloopError",
    "NotFoundError",
    "StorageError",
    "__version__",
    "active_run",
    "delete_run",
    "end_run",
    "flush",
    "get_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "restore_run",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

# Every public name not bound above is the fluent API's, loaded from `mloop.client` on first
# access (PEP 562 `__getattr__`).
_CLIENT_NAMES = frozenset(name for name in __all__ if name not in globals())
