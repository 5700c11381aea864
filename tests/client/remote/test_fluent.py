"""`tests/client/test_fluent.py` through a live server (see conftest.py)."""

from __future__ import annotations

from tests.client import test_fluent as _local

_TAKEN = [
    "run_id",
    "test_log_param_returns_the_stored_string_and_accepts_the_same_value_again",
    "test_log_param_with_another_value_raises_at_the_call_and_queues_nothing",
    "test_log_params_with_one_conflict_queues_none_of_them",
    "test_log_param_conflict_is_detected_for_a_run_started_elsewhere",
    "test_log_params_refuses_a_too_long_value_and_queues_nothing",
    "test_log_metric_stores_value_step_and_timestamp",
    "test_log_metric_defaults_to_step_zero_and_now",
    "test_nan_and_infinities_round_trip",
    "test_bad_keys_raise_at_the_call_and_change_nothing",
    "test_a_key_of_exactly_250_characters_is_accepted",
    "test_metric_values_that_are_not_real_numbers_raise_at_the_call",
    "test_bad_steps_and_timestamps_raise_at_the_call",
    "test_an_integral_float_step_is_stored_as_an_integer",
    "test_log_metrics_stores_all_points_at_one_step_and_time",
    "test_log_metrics_validates_all_before_queueing_any",
    "test_set_tag_overwrites_and_set_tags_sets_several",
    "test_set_tags_refuses_a_too_long_value_and_queues_nothing",
    "test_a_write_error_is_raised_on_flush_once",
    "test_a_write_error_is_raised_at_run_end_and_the_run_still_ends",
    "test_a_write_error_is_raised_on_the_next_logging_call",
    "test_log_artifact_copies_a_file_under_the_artifact_path",
    "test_log_artifacts_copies_a_folder_recursively",
    "test_log_text_and_log_dict_write_files",
    "test_log_dict_refuses_data_it_cannot_serialise",
    "test_log_figure_refuses_an_object_that_is_not_a_figure",
    "test_log_figure_saves_a_matplotlib_figure",
    "test_artifact_paths_that_escape_raise_and_write_nothing",
]

for _name in _TAKEN:
    globals()[_name] = getattr(_local, _name)


def test_the_fluent_api_talks_to_the_server() -> None:
    import mloop
    from mloop.client.context import get_store
    from mloop.storage.rest import RestStore

    assert isinstance(get_store(), RestStore)
    with mloop.start_run() as run:
        for step in range(2500):
            mloop.log_metric("loss", 1 / (step + 1), step=step)
        mloop.log_params({"lr": 0.1, "depth": 3})
    stored = mloop.get_run(run.run_id)
    assert stored.metrics["loss"] == 1 / 2500
    assert stored.params == {"lr": "0.1", "depth": "3"}
    history = mloop.MloopClient().get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == list(range(2500))
