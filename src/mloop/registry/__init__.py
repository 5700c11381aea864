"""The model registry: model references, registration, model cards.

Stores live in `mloop.storage` (`store.registry`); this package holds what sits on top of
them and the CLI and client call.
"""

from __future__ import annotations

from mloop.registry.references import ModelReference as ModelReference
from mloop.registry.references import parse_model_uri as parse_model_uri
from mloop.registry.references import resolve as resolve
from mloop.registry.references import run_id_of_source as run_id_of_source

__all__ = ["ModelReference", "parse_model_uri", "resolve", "run_id_of_source"]
