"""`LoadedModel`: the ONNX path stays light, the native model loads only when needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mloop.models as stage_models
from mloop.client import models as client_models
from mloop.models import LoadedModel, load_package, save_model
from tests.models.conftest import Fitted


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_onnx_path_with_a_dict_imports_neither_sklearn_nor_pandas(
    random_forest: Fitted, tmp_path: Path
) -> None:
    package = save_model(random_forest.model, tmp_path / "pkg", input_example=random_forest.frame)
    row = {k: float(v) for k, v in random_forest.frame.iloc[0].items()}
    code = (
        "import sys\n"
        "from mloop.models import load_package\n"
        f"model = load_package({str(package.path)!r})\n"
        f"print(model.backend, model.predict({row!r}).tolist(), "
        f"model.predict_proba([{row!r}]).shape)\n"
        "print(sorted(m for m in ('sklearn', 'pandas', 'skops', 'scipy') if m in sys.modules))\n"
    )
    backend_and_prediction, heavy = _run(code).splitlines()
    expected = random_forest.model.predict(random_forest.frame.head(1)).tolist()
    assert backend_and_prediction == f"onnx {expected} (1, 3)"
    assert heavy == "[]"


def test_import_mloop_models_is_light() -> None:
    heavy = ["numpy", "pandas", "sklearn", "onnxruntime", "skops", "cloudpickle"]
    code = f"import sys, mloop.models; print([m for m in {heavy!r} if m in sys.modules])"
    assert _run(code) == "[]"


def test_native_model_loads_lazily_behind_onnx(logistic: Fitted, tmp_path: Path) -> None:
    package = save_model(logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(5))
    loaded = load_package(package.path)

    assert loaded._native is None
    assert loaded.serve_method == "predict"
    assert "backend='onnx'" in repr(loaded)
    assert type(loaded.native).__name__ == "LogisticRegression"
    assert loaded._native is not None


def test_log_and_load_model_are_reachable_from_the_stage_package() -> None:
    assert stage_models.log_model is client_models.log_model
    assert stage_models.load_model is client_models.load_model
    assert {"load_model", "log_model", "save_model"} <= set(dir(stage_models))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = stage_models.nothing
    assert stage_models.LoadedModel is LoadedModel


def test_predictions_on_every_input_shape_agree(logistic: Fitted, tmp_path: Path) -> None:
    package = save_model(logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(5))
    frame = logistic.frame.head(7)
    expected = logistic.model.predict(frame)
    for prefer_onnx in (True, False):
        loaded = load_package(package.path, prefer_onnx=prefer_onnx)
        for data in (
            frame,
            frame.to_dict("list"),
            frame.to_dict("records"),
            frame.to_numpy(),
            frame.to_numpy().tolist(),
        ):
            assert np.array_equal(loaded.predict(data), expected)


def test_without_onnxruntime_the_native_model_serves(logistic: Fitted, tmp_path: Path) -> None:
    package = save_model(logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(5))
    assert package.onnx is not None
    assert package.onnx.verified
    row = {k: float(v) for k, v in logistic.frame.iloc[0].items()}
    code = (
        "import sys\n"
        "sys.modules['onnxruntime'] = None  # as if it were not installed\n"
        "from mloop.models import load_package\n"
        f"model = load_package({str(package.path)!r})\n"
        f"print(model.backend, model.predict({row!r}).tolist())\n"
    )
    expected = logistic.model.predict(logistic.frame.head(1)).tolist()
    assert _run(code) == f"native {expected}"


def test_concurrent_first_uses_share_one_native_model(logistic: Fitted, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    package = save_model(logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(5))
    loaded = load_package(package.path)
    with ThreadPoolExecutor(4) as pool:
        natives = list(pool.map(lambda _: loaded.native, range(8)))
    assert len({id(n) for n in natives}) == 1
