"""Readable run names such as `brisk-otter-417`, generated when the user gives none."""

from __future__ import annotations

import random

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
    """A random `adjective-noun-number` name; collisions are harmless (ids are unique).

    Not secret, so the module's generator serves (`secrets` reads the OS's randomness three
    times a name, a tenth of a short run's client time).
    """
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randrange(1000)}"  # noqa: S311
