"""`tests/client/test_active_run.py` through a live server (see conftest.py)."""

from __future__ import annotations

from tests.client import test_active_run as _local

_TAKEN = [
    "test_run_used_as_context_manager_ends_finished_with_what_was_logged",
    "test_run_ends_failed_on_an_exception_with_the_error_recorded",
    "test_run_ends_killed_on_keyboard_interrupt",
    "test_nested_run_records_its_parent_and_both_end",
    "test_open_child_runs_end_with_their_parent",
    "test_starting_a_second_run_while_one_is_active_raises_and_changes_nothing",
    "test_runs_get_generated_readable_names_unless_named",
    "test_start_run_sets_tags_description_and_user",
    "test_active_run_is_none_without_a_run",
    "test_end_run_ends_the_active_run_with_the_given_status",
    "test_end_run_without_an_active_run_does_nothing",
    "test_run_ended_inside_its_with_block_keeps_its_status",
    "test_active_run_info_includes_queued_writes",
    "test_resuming_a_run_in_this_process_sets_it_running_and_knows_its_params",
    "test_a_run_can_be_resumed_from_another_process",
    "test_resuming_an_unknown_run_raises_not_found",
    "test_resuming_a_deleted_run_raises_not_active",
    "test_delete_and_restore_run_change_its_stage_and_are_audited",
    "test_delete_run_of_an_unknown_run_raises_not_found",
    "test_get_run_returns_everything_logged_without_an_explicit_flush",
    "test_get_run_of_an_unknown_run_raises_not_found",
    "test_search_runs_filters_by_param_tag_and_status_equality",
    "test_search_runs_is_limited_to_the_current_experiment",
    "test_search_runs_in_an_unknown_experiment_raises_not_found",
    "test_logging_without_an_active_run_starts_one",
]

for _name in _TAKEN:
    globals()[_name] = getattr(_local, _name)
