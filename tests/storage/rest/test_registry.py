"""The model registry through the server: the registry store's tests, run on RestStore.

Each test named below is taken from the SQL registry suites and collected here, where the
`store` fixture is a `RestStore` in front of a live server. Left out: tests that read audit rows
or the engine directly, or verify the audit chain (not served).
"""

from __future__ import annotations

from types import ModuleType

from tests.storage import test_registry, test_registry_search

_TAKEN: dict[ModuleType, list[str]] = {
    test_registry: [
        "test_a_version_of_an_unknown_run_is_refused_and_nothing_changes",
        "test_models_are_created_described_tagged_and_deleted",
        "test_version_tags_and_descriptions",
        "test_aliases_resolve_move_and_are_deleted",
        "test_malformed_aliases_are_refused",
        "test_alias_on_a_missing_version_fails_and_changes_nothing",
        "test_latest_of_a_model_without_versions",
        "test_a_version_holding_an_alias_needs_force_to_delete",
        "test_approvals_record_who_when_and_why",
        "test_protected_aliases_need_an_approved_version",
        "test_version_numbers_accept_decimal_strings_but_not_junk",
        "test_refused_changes_record_nothing",
        "test_a_renamed_model_keeps_its_versions_tags_aliases_and_approvals",
    ],
    test_registry_search: [
        "filled",
        "test_model_filters",
        "test_version_filters",
        "test_order_by_and_pages_cover_everything_once",
        "test_search_results_carry_tags_and_aliases",
        "test_bad_version_filters_are_refused",
        "test_bad_model_filters_orders_and_tokens_are_refused",
        "test_run_search_still_maps_name_to_run_name",
        "test_attribute_null_checks_and_a_single_order_clause",
    ],
}

for _module, _names in _TAKEN.items():
    for _name in _names:
        globals()[_name] = getattr(_module, _name)
