"""The model registry: model references, model cards.

Stores live in `mloop.storage` (`store.registry`); this package holds what sits on top of
them and the CLI and client call.
"""

from __future__ import annotations

from mloop.registry.card_render import to_html as to_html
from mloop.registry.card_render import to_markdown as to_markdown
from mloop.registry.cards import build_card as build_card
from mloop.registry.references import ModelReference as ModelReference
from mloop.registry.references import parse_model_uri as parse_model_uri
from mloop.registry.references import resolve as resolve
from mloop.registry.references import run_id_of_source as run_id_of_source

__all__ = [
    "ModelReference",
    "build_card",
    "parse_model_uri",
    "resolve",
    "run_id_of_source",
    "to_html",
    "to_markdown",
]
