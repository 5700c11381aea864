"""Deployments through the server: the deployment store's tests, run on RestStore.

Each test named below is taken from the SQL suite and collected here, where the `store` fixture
is a `RestStore` in front of a live server. Left out: the rollback test that reads the note the
SQL store adds to registry errors (notes do not travel in error bodies).
"""

from __future__ import annotations

from tests.storage import test_deployments

_TAKEN = [
    "filled",
    "test_a_deployment_is_created_read_and_listed",
    "test_malformed_configurations_are_refused_and_change_nothing",
    "test_targets_must_exist_in_the_registry",
    "test_a_taken_name_is_refused",
    "test_missing_deployments_are_not_found",
    "test_updates_make_revisions_and_keep_what_is_not_given",
    "test_a_shadow_promoted_to_a_route_stops_being_a_shadow",
    "test_a_refused_update_changes_nothing",
    "test_rollback_returns_to_the_previous_configuration_as_a_new_revision",
    "test_concurrent_updates_get_consecutive_revisions",
    "test_a_rollback_from_a_named_revision_is_applied_once",
    "test_the_registry_keeps_what_a_deployment_serves",
    "test_a_deleted_deployment_is_gone_but_its_story_stays_in_the_audit_log",
]

for _name in _TAKEN:
    globals()[_name] = getattr(test_deployments, _name)
