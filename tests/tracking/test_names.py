"""Generated run names (`tracking/names.py`)."""

from __future__ import annotations

import re

from mloop.entities.validation import validate_name
from mloop.tracking.names import generate_run_name


def test_generated_names_are_readable_valid_and_varied():
    names = {generate_run_name() for _ in range(200)}

    assert len(names) > 150
    for name in names:
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", name)
        assert validate_name(name, kind="run") == name
