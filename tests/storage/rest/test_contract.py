"""The store contract, run through HTTP: SQL store tests that use only the protocols, on RestStore.

Each test named below is taken from the SQL store's suite and collected here, where the `store`
fixture is a `RestStore` in front of a live server, so both stores answer the same calls with
the same results and the same error classes. Left out: SQL-only checks (rows, engines),
`audit.verify` (not served yet) and the 50,000-run pages, above the server's page limit
(tests/server/test_api_runs.py covers that limit).
"""

from __future__ import annotations

from types import ModuleType

from tests.storage.sql import (
    test_batches,
    test_experiments,
    test_run_finish,
    test_runs,
    test_search,
)

_TAKEN: dict[ModuleType, list[str]] = {
    test_experiments: [
        "test_a_fresh_store_has_the_default_experiment_with_id_0",
        "test_create_assigns_a_new_id_and_an_artifact_location_under_the_root",
        "test_create_keeps_an_explicit_artifact_location",
        "test_ids_are_distinct_and_list_is_ordered_by_id",
        "test_find_by_name_returns_none_and_get_by_name_raises_when_missing",
        "test_get_of_an_unknown_id_raises_not_found",
        "test_duplicate_name_is_refused",
        "test_name_of_a_deleted_experiment_stays_taken",
        "test_names_are_case_sensitive",
        "test_rename_changes_the_name_and_frees_the_old_one",
        "test_rename_to_its_own_name_is_allowed",
        "test_rename_of_an_unknown_experiment_raises_not_found",
        "test_delete_hides_from_list_and_restore_brings_back",
        "test_delete_and_restore_of_an_unknown_experiment_raise_not_found",
        "test_set_tag_adds_and_overwrites",
        "test_set_tag_on_an_unknown_experiment_raises_not_found",
        "test_malformed_ids_are_invalid_input",
        "test_invalid_names_change_nothing",
        "test_invalid_tags_change_nothing",
        "test_long_tag_values_and_unicode_names_round_trip",
    ],
    test_runs: [
        "test_create_generates_a_32_hex_id_and_starts_running",
        "test_generated_ids_differ",
        "test_create_records_parent_and_tags",
        "test_get_of_an_unknown_run_raises_not_found",
        "test_terminal_status_sets_the_end_time",
        "test_resuming_a_run_as_running_clears_its_end_time",
        "test_update_renames_and_sets_end_time_alone",
        "test_update_of_an_unknown_run_raises_not_found",
        "test_delete_of_an_unknown_run_raises_and_records_nothing",
        "test_a_deleted_run_accepts_no_data",
        "test_writes_to_an_unknown_run_raise_not_found",
        "test_log_inputs_is_idempotent",
        "test_delete_tag_removes_only_that_tag_of_that_run",
        "test_metric_history_is_ordered_by_step_then_timestamp",
        "test_search_returns_runs_of_the_given_experiments_newest_first",
        "test_search_filters_by_param_and_tag_equality",
        "test_search_filters_by_status",
        "test_search_skips_deleted_runs_unless_asked",
        "test_search_refuses_max_results_out_of_bounds",
        "test_search_refuses_malformed_experiment_ids",
        "test_search_reports_latest_metric_values",
    ],
    test_run_finish: [
        "test_finish_writes_the_last_batch_and_ends_the_run",
        "test_finish_without_a_batch_only_ends_the_run_now",
        "test_finishing_twice_with_the_same_batch_stores_it_once",
        "test_finish_refuses_a_status_that_does_not_end_a_run",
        "test_a_param_conflict_writes_nothing_and_leaves_the_run_running",
        "test_finish_of_an_unknown_run_raises_not_found",
        "test_a_deleted_run_can_end_but_takes_no_last_batch",
        "test_finish_takes_a_batch_past_one_requests_limits",
        "test_finish_checks_keys_and_values_and_writes_nothing",
        "test_a_new_run_shares_another_runs_files_by_digest",
        "test_sharing_a_folder_with_wildcard_characters_matches_it_literally",
        "test_sharing_from_an_unknown_run_creates_nothing",
        "test_finish_with_a_start_creates_the_run_ended_with_its_batch",
        "test_finish_with_a_start_of_a_run_that_exists_only_ends_it",
        "test_finish_with_a_start_in_a_missing_experiment_stores_nothing",
        "test_finish_with_a_start_sharing_an_unknown_runs_files_stores_nothing",
        "test_finish_with_a_malformed_start_stores_nothing",
        "test_finish_with_a_start_and_a_batch_past_one_requests_limits",
        "test_sharing_a_run_without_such_files_links_nothing",
        "test_sharing_the_root_or_outside_it_is_refused",
    ],
    test_batches: [
        "run_id",
        "test_log_batch_writes_metrics_params_and_tags",
        "test_an_empty_batch_is_a_no_op",
        "test_points_that_differ_only_in_value_are_all_kept",
        "test_same_param_value_twice_is_accepted",
        "test_params_of_other_runs_do_not_conflict",
        "test_tags_are_overwritten_and_the_last_in_a_batch_wins",
        "test_latest_metric_breaks_step_ties_by_timestamp",
        "test_latest_metric_within_one_batch_is_its_maximum",
        "test_latest_metric_is_per_run_and_per_key",
        "test_special_and_extreme_floats_round_trip",
        "test_nan_and_zero_at_the_same_step_are_distinct_points",
        "test_a_later_nan_becomes_the_latest_value_and_a_later_number_replaces_it",
        "test_a_param_of_the_full_length_with_varied_text_is_stored",
    ],
    test_search: [
        "pop",
        "test_metric_operators_match_exactly_and_nan_matches_no_comparison",
        "test_is_null_means_never_logged_and_a_nan_metric_is_not_null",
        "test_param_and_tag_equality_and_not_equal_exclude_runs_lacking_the_key",
        "test_like_is_case_sensitive_and_ilike_is_not_on_every_backend",
        "test_a_backslash_escapes_like_wildcards_the_same_way_on_every_backend",
        "test_attribute_comparisons",
        "test_dataset_fields",
        "test_and_or_not_and_parentheses_combine",
        "test_shorthands_are_anded_with_the_filter",
        "test_search_across_all_experiments_and_deleted_runs",
        "test_default_order_is_newest_first",
        "test_missing_and_nan_values_sort_last_in_both_directions",
        "test_several_keys_order_in_turn_and_ties_fall_back_to_creation_order",
        "test_order_applies_before_max_results",
        "test_walking_pages_returns_every_run_once_in_order",
        "test_next_page_token_is_none_exactly_on_the_last_page",
        "test_pages_are_stable_while_runs_are_inserted",
        "test_a_token_is_refused_by_another_search",
        "test_garbage_and_forged_tokens_are_refused",
        "test_hostile_text_is_matched_literally",
    ],
}

for _module, _names in _TAKEN.items():
    for _name in _names:
        globals()[_name] = getattr(_module, _name)
