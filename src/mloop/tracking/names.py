"""Readable run names such as `brisk-otter-417`, generated when the user gives none."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "crisp", "dapper", "eager", "fluent", "gentle",
    "glad", "grand", "honest", "keen", "lively", "lucid", "merry", "nimble", "noble", "plucky",
    "polite", "quick", "quiet", "rapid", "sharp", "shiny", "silent", "smooth", "steady", "sunny",
    "swift", "tidy", "vivid", "warm", "wise", "witty", "zesty", "bright", "cosmic", "daring",
)  # fmt: skip
_NOUNS = (
    "otter", "falcon", "badger", "heron", "lynx", "marten", "osprey", "panda", "quokka", "raven",
    "salmon", "tapir", "walrus", "yak", "zebra", "bison", "condor", "dolphin", "egret", "ferret",
    "gecko", "ibis", "jackal", "koala", "lemur", "mole", "newt", "ocelot", "puffin", "robin",
    "seal", "tern", "urchin", "viper", "wombat", "finch", "hare", "moose", "owl", "stoat",
)  # fmt: skip


def generate_run_name() -> str:
    """A random `adjective-noun-number` name; collisions are harmless (ids are unique)."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"
