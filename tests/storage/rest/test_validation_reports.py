"""Validation reports through the server: the SQL store's tests, run on RestStore.

Each test named below is taken from the SQL suite and collected here, where the `store` fixture
is a `RestStore` in front of a live server.
"""

from __future__ import annotations

from tests.storage.sql import test_validation_reports

_TAKEN = [
    "test_a_validation_is_listed_newest_first_and_audited",
    "test_a_report_is_reused_only_for_the_same_policy_and_inputs",
    "test_bad_input_changes_nothing",
]

for _name in _TAKEN:
    globals()[_name] = getattr(test_validation_reports, _name)
