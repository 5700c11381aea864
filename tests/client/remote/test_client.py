"""`tests/client/test_client.py` through a live server (see conftest.py)."""

from __future__ import annotations

from tests.client import test_client as _local

_TAKEN = [
    "client",
    "run_id",
    "test_logging_is_synchronous",
    "test_log_param_conflict_raises_and_keeps_the_first_value",
    "test_a_batch_over_the_limits_raises_and_writes_nothing",
    "test_a_batch_with_one_bad_item_writes_nothing",
    "test_a_batch_with_a_conflicting_param_writes_nothing",
    "test_experiments_can_be_created_read_renamed_deleted_and_restored",
    "test_unknown_experiments_raise_not_found",
    "test_create_run_names_tags_and_parents_a_run",
    "test_set_terminated_ends_a_run_with_its_status_and_end_time",
    "test_update_run_renames",
    "test_unknown_runs_raise_not_found",
    "test_delete_tag_removes_it_and_a_missing_tag_raises",
    "test_get_metric_history_orders_by_step_then_time",
    "test_delete_and_restore_run_are_audited",
    "test_search_runs_filters_by_equality",
    "test_log_inputs_records_datasets_once",
    "test_artifacts_can_be_logged_listed_and_downloaded",
    "test_a_client_without_arguments_uses_the_fluent_default_store",
]

for _name in _TAKEN:
    globals()[_name] = getattr(_local, _name)
