"""Gate overrides through the server: the registry store's override tests, run on RestStore.

Left out: the tests that need the database itself (a trigger) or its users (the auth tests in
`tests/server/test_override_auth.py` cover who may override over HTTP).
"""

from __future__ import annotations

from tests.storage import test_registry_override as _sql

_TAKEN = [
    "test_an_override_audits_approves_and_moves_the_alias",
    "test_an_approved_version_is_not_approved_again",
    "test_a_bad_override_is_refused_and_records_nothing",
]

for _name in _TAKEN:
    globals()[_name] = getattr(_sql, _name)
