"""scikit-learn flavor: skops round trips, the curated allow-list, the verified ONNX export."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from mloop.errors import (
    InvalidInputError,
    InvalidModelPackageError,
    UnsupportedModelError,
    UntrustedModelError,
)
from mloop.models import load_package, save_model
from tests.models.conftest import Fitted

CASES = ["random_forest", "logistic", "scaled_pipeline"]


@pytest.mark.parametrize("case", CASES)
def test_classifier_round_trip_onnx_agrees_with_native(
    case: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    fitted: Fitted = request.getfixturevalue(case)
    frame = fitted.frame
    package = save_model(fitted.model, tmp_path / "pkg", input_example=frame.head(50))

    assert package.onnx is not None
    assert package.onnx.verified, package.onnx.reason
    assert package.onnx.compared == "predict_proba"
    assert package.onnx.labels_match is True
    assert package.onnx.max_abs_diff is not None
    assert package.onnx.max_abs_diff <= package.onnx.tolerance  # type: ignore[operator]

    onnx = load_package(package.path)
    native = load_package(package.path, prefer_onnx=False)
    assert onnx.backend == "onnx"
    assert native.backend == "native"
    expected = fitted.model.predict(frame)
    assert np.array_equal(native.predict(frame), expected)
    assert np.array_equal(onnx.predict(frame), expected)
    np.testing.assert_allclose(
        onnx.predict_proba(frame), fitted.model.predict_proba(frame), atol=1e-6
    )
    np.testing.assert_array_equal(native.predict_proba(frame), fitted.model.predict_proba(frame))


def test_tied_forest_votes_give_the_native_label_on_the_onnx_path(tmp_path: Path) -> None:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    features, labels = make_classification(400, 4, flip_y=0.2, random_state=3)
    model = RandomForestClassifier(20, random_state=0).fit(features[:200], labels[:200])
    probabilities = model.predict_proba(features)
    assert (probabilities[:, 0] == probabilities[:, 1]).sum() >= 5  # exact 10-10 ties

    package = save_model(model, tmp_path / "pkg", input_example=features[:5])
    assert package.flavor_options["classes"] == [0, 1]
    loaded = load_package(package.path)
    assert loaded.backend == "onnx"
    assert np.array_equal(loaded.predict(features), model.predict(features))
    # ONNX Runtime's own label output breaks those ties the other way: mloop picks labels
    # from the probabilities instead.
    from mloop.models.flavors.onnx import make_session

    (raw,) = make_session(str(package.path / "model.onnx")).run(["label"], {"X": features})
    assert (raw != model.predict(features)).sum() > 0


def test_text_labels_come_back_as_text_on_both_paths(tmp_path: Path) -> None:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    features, labels = make_classification(200, 4, random_state=0)
    names = np.array(["no", "yes"])[labels]
    model = RandomForestClassifier(10, random_state=0).fit(features, names)
    package = save_model(model, tmp_path / "pkg", input_example=features[:5])

    assert package.flavor_options["classes"] == ["no", "yes"]
    assert package.signature is not None
    assert package.signature.outputs[0].type == "string"
    for prefer_onnx in (True, False):
        predicted = load_package(package.path, prefer_onnx=prefer_onnx).predict(features)
        assert predicted.tolist() == model.predict(features).tolist()


def test_regressor_round_trip_onnx_agrees_with_native(regressor: Fitted, tmp_path: Path) -> None:
    package = save_model(regressor.model, tmp_path / "pkg", input_example=regressor.frame.head(20))

    assert package.onnx is not None
    assert package.onnx.verified, package.onnx.reason
    assert package.onnx.compared == "predict"
    assert package.onnx.labels_match is None
    loaded = load_package(package.path)
    assert loaded.backend == "onnx"
    np.testing.assert_allclose(
        loaded.predict(regressor.frame), regressor.model.predict(regressor.frame), rtol=1e-9
    )
    assert package.signature is not None
    assert [c.type for c in package.signature.outputs] == ["double"]
    assert not loaded.has_method("predict_proba")
    with pytest.raises(InvalidInputError, match="has no predict_proba"):
        loaded.predict_proba(regressor.frame)


def test_signature_records_types_and_the_served_method(
    random_forest: Fitted, tmp_path: Path
) -> None:
    package = save_model(
        random_forest.model,
        tmp_path / "pkg",
        input_example=random_forest.frame.head(5),
        method="predict_proba",
    )

    signature = package.signature
    assert signature is not None
    assert signature.method == "predict_proba"
    assert signature.input_names == ["a", "b", "c", "d"]
    assert {c.type for c in signature.inputs} == {"double"}
    assert [c.name for c in signature.outputs] == ["0", "1", "2"]
    loaded = load_package(package.path)
    np.testing.assert_allclose(
        loaded.serve(random_forest.frame.head(3)),
        random_forest.model.predict_proba(random_forest.frame.head(3)),
        atol=1e-6,
    )


def test_model_fitted_on_an_array_takes_arrays_and_named_columns(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.normal(size=(100, 3))
    labels = (features[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(features, labels)
    package = save_model(model, tmp_path / "pkg", input_example=features[:5])

    assert package.signature is not None
    assert package.signature.input_names == ["x0", "x1", "x2"]
    for prefer_onnx in (True, False):
        loaded = load_package(package.path, prefer_onnx=prefer_onnx)
        assert np.array_equal(loaded.predict(features), model.predict(features))
        by_name = {f"x{i}": features[:, i].tolist() for i in range(3)}
        assert np.array_equal(loaded.predict(by_name), model.predict(features))


def test_package_file_records_requirements_and_the_export(logistic: Fitted, tmp_path: Path) -> None:
    package = save_model(logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(5))

    recorded = yaml.safe_load((package.path / "mloop-model.yaml").read_text())
    names = {line.split("==")[0] for line in recorded["requirements"]}
    assert {"scikit-learn", "skops", "numpy", "onnxruntime"} <= names
    assert all("==" in line for line in recorded["requirements"])
    assert recorded["onnx"]["verified"] is True
    assert recorded["onnx"]["opset"] == {"ai.onnx": 18, "ai.onnx.ml": 3}
    assert set(recorded["files"]) == {"model.skops", "model.onnx", "input_example.json"}
    assert recorded["model_class"] == "sklearn.linear_model._logistic.LogisticRegression"


def test_without_an_example_there_is_no_export_and_no_signature(
    logistic: Fitted, tmp_path: Path
) -> None:
    package = save_model(logistic.model, tmp_path / "pkg")

    assert package.signature is None
    assert package.onnx is not None
    assert not package.onnx.verified
    assert "no input example" in package.onnx.reason
    assert not (package.path / "model.onnx").exists()
    loaded = load_package(package.path)
    assert loaded.backend == "native"
    assert np.array_equal(loaded.predict(logistic.frame), logistic.model.predict(logistic.frame))


def test_export_can_be_turned_off(logistic: Fitted, tmp_path: Path) -> None:
    package = save_model(
        logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(5), export_onnx=False
    )

    assert package.onnx is None
    assert load_package(package.path).backend == "native"


def test_a_model_that_does_not_convert_records_why_and_serves_natively(tmp_path: Path) -> None:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    features, labels = make_classification(200, 4, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=5).fit(features, labels)
    package = save_model(model, tmp_path / "pkg", input_example=features[:5])

    assert package.onnx is not None
    assert not package.onnx.verified
    assert package.onnx.reason.startswith("conversion failed")
    loaded = load_package(package.path)
    assert loaded.backend == "native"
    assert np.array_equal(loaded.predict(features), model.predict(features))


def test_string_inputs_are_not_exported(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame({"city": ["a", "b", "c", "a"] * 10, "n": list(range(40))})
    labels = np.array([0, 1, 1, 0] * 10)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["city"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, labels)
    package = save_model(model, tmp_path / "pkg", input_example=frame.head(4))

    assert package.onnx is not None
    assert "'city' is a string" in package.onnx.reason
    loaded = load_package(package.path)
    records = frame.head(6).to_dict("records")
    assert np.array_equal(loaded.predict(records), model.predict(frame.head(6)))


def _with_function(function: object) -> object:
    """A fitted pipeline holding `function` (never called) in a FunctionTransformer."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    step = FunctionTransformer(inverse_func=function, check_inverse=False)
    features = np.array([[0.0], [1.0], [2.0], [3.0]])
    return make_pipeline(step, LogisticRegression()).fit(features, [0, 0, 1, 1])


def test_a_type_outside_the_allow_list_is_refused_by_name(tmp_path: Path) -> None:
    model = _with_function(os.system)
    package = save_model(model, tmp_path / "pkg", input_example=np.array([[1.0]]))

    with pytest.raises(UntrustedModelError, match=r"posix\.system") as caught:
        load_package(package.path, prefer_onnx=False)
    assert caught.value.types == ["posix.system"]
    # The verified ONNX export is data and serves without the skops file; the native model
    # stays refused when something asks for it.
    served = load_package(package.path)
    assert np.array_equal(served.predict(np.array([[0.0], [3.0]])), [0, 1])
    with pytest.raises(UntrustedModelError, match=r"posix\.system"):
        _ = served.native
    assert "trusted_types" in str(caught.value)
    assert package.flavor_options["needs_trusted_types"] == ["posix.system"]


def test_named_extra_types_are_trusted_on_request(tmp_path: Path) -> None:
    model = _with_function(os.getcwd)
    package = save_model(model, tmp_path / "pkg", export_onnx=False)
    wanted = package.flavor_options["needs_trusted_types"]
    assert wanted == ["posix.getcwd"]

    loaded = load_package(package.path, trusted_types=wanted)
    assert loaded.native.steps[0][1].inverse_func is os.getcwd
    assert np.array_equal(loaded.predict(np.array([[0.0], [3.0]])), [0, 1])


def test_trusted_true_does_not_widen_the_skops_allow_list(tmp_path: Path) -> None:
    package = save_model(_with_function(os.system), tmp_path / "pkg")

    with pytest.raises(UntrustedModelError):
        load_package(package.path, trusted=True)


def test_tree_models_load_with_the_curated_internals(tmp_path: Path) -> None:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier

    features, labels = make_classification(100, 4, random_state=0)
    models = [
        DecisionTreeClassifier(),
        GradientBoostingRegressor(n_estimators=5),
        HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]),
        KNeighborsClassifier(algorithm="brute"),
    ]
    features[:, 0] = np.arange(100) % 3
    for index, model in enumerate(models):
        model.fit(features, labels)
        package = save_model(model, tmp_path / f"pkg{index}", export_onnx=False)
        loaded = load_package(package.path)
        assert np.array_equal(loaded.predict(features), model.predict(features))


def test_neighbour_trees_are_not_trusted_by_default(tmp_path: Path) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    features = np.random.default_rng(0).normal(size=(50, 3))
    model = KNeighborsClassifier(algorithm="kd_tree").fit(features, np.arange(50) % 2)
    package = save_model(model, tmp_path / "pkg", export_onnx=False)
    with pytest.raises(UntrustedModelError, match=r"KDTree"):
        load_package(package.path)
    kd_tree = "sklearn.neighbors._kd_tree.KDTree"
    loaded = load_package(package.path, trusted_types=[kd_tree])
    assert np.array_equal(loaded.predict(features), model.predict(features))


def _tamper_tree(package_path: Path, field: str, value: int) -> None:
    """Rewrite one field of node 0 of the first tree in model.skops, and its recorded digest."""
    import io
    import zipfile

    from mloop.models.package import PACKAGE_FILE, file_sha256

    skops_file = package_path / "model.skops"
    source = zipfile.ZipFile(io.BytesIO(skops_file.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name.endswith(".npy"):
                array = np.load(io.BytesIO(data), allow_pickle=False)
                if array.dtype.names and field in array.dtype.names:
                    array = array.copy()
                    array[field][0] = value
                    buffer = io.BytesIO()
                    np.save(buffer, array, allow_pickle=False)
                    data = buffer.getvalue()
            target.writestr(name, data)
    skops_file.write_bytes(out.getvalue())
    recorded = yaml.safe_load((package_path / PACKAGE_FILE).read_text())
    recorded["files"]["model.skops"]["sha256"] = file_sha256(skops_file)
    (package_path / PACKAGE_FILE).write_text(yaml.safe_dump(recorded, sort_keys=False))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("left_child", 10**6, "child index outside the tree"),
        ("right_child", 0, "child index outside the tree"),
        ("feature", 99, "feature it does not have"),
    ],
)
def test_a_crafted_tree_is_refused_before_any_prediction(
    tmp_path: Path, field: str, value: int, message: str
) -> None:
    from sklearn.tree import DecisionTreeClassifier

    features = np.random.default_rng(0).normal(size=(60, 3))
    model = DecisionTreeClassifier(max_depth=3).fit(features, np.arange(60) % 2)
    package = save_model(model, tmp_path / "pkg", export_onnx=False)
    _tamper_tree(package.path, field, value)

    with pytest.raises(InvalidModelPackageError, match=message):
        load_package(package.path)


def test_unfitted_estimator_is_refused(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(UnsupportedModelError, match="not fitted"):
        save_model(LogisticRegression(), tmp_path / "pkg")
    assert not (tmp_path / "pkg").exists()
    assert list(tmp_path.iterdir()) == []


def test_method_the_estimator_lacks_is_refused(regressor: Fitted, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no predict_proba"):
        save_model(regressor.model, tmp_path / "pkg", method="predict_proba")
    assert list(tmp_path.iterdir()) == []
