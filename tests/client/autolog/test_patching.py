"""Wrapping and restoring methods: exact restore, inherited methods, descriptors, nesting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mloop.client.autolog import patching


@pytest.fixture(autouse=True)
def fluent() -> Iterator[None]:
    """No store needed; leave no wrapper behind."""
    yield
    patching.uninstall()


class Base:
    def fit(self, value: int) -> int:
        return value + 1


class Child(Base):
    """Inherits `fit` from `Base`."""


class Outer(Base):
    def fit(self, value: int) -> int:
        return Child().fit(value) * 10


class WithDescriptor:
    enabled = True

    @property
    def fit_predict(self) -> Callable[[int], int]:
        if not self.enabled:
            raise AttributeError("fit_predict is not available")
        return lambda value: value * 2


def recorder() -> tuple[list[tuple[str, tuple[Any, ...]]], patching.Handler]:
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def handler(instance: Any, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        calls.append((type(instance).__name__, args))
        return call(*args, **kwargs)

    return calls, handler


def test_install_wraps_own_and_inherited_methods_and_uninstall_restores_them_exactly():
    original = Base.__dict__["fit"]
    calls, handler = recorder()

    assert patching.install([Base, Child], ["fit", "missing"], handler) == 2
    assert "fit" in Child.__dict__
    assert Child().fit(1) == 2
    assert Base().fit(1) == 2
    assert calls == [("Child", (1,)), ("Base", (1,))]

    assert patching.uninstall() == 2
    assert Base.__dict__["fit"] is original
    assert "fit" not in Child.__dict__
    assert not patching.is_installed()


def test_install_twice_wraps_once():
    calls, handler = recorder()
    patching.install([Base], ["fit"], handler)
    wrapped = Base.fit
    assert patching.install([Base], ["fit"], handler) == 0
    assert Base.fit is wrapped
    Base().fit(0)
    assert len(calls) == 1


def test_only_the_outermost_call_reaches_the_handler():
    calls, handler = recorder()
    patching.install([Base, Child, Outer], ["fit"], handler)
    assert Outer().fit(1) == 20
    assert calls == [("Outer", (1,))]


class Failing:
    def fit(self, value: int) -> int:
        raise ValueError(value)


def test_a_failing_method_propagates_and_resets_the_guard():
    calls, handler = recorder()
    patching.install([Failing], ["fit"], handler)
    with pytest.raises(ValueError, match="3"):
        Failing().fit(3)
    with pytest.raises(ValueError, match="4"):
        Failing().fit(4)
    assert calls == [("Failing", (3,)), ("Failing", (4,))]


def test_descriptors_keep_their_availability():
    calls, handler = recorder()
    original = WithDescriptor.__dict__["fit_predict"]
    patching.install([WithDescriptor], ["fit_predict"], handler)
    instance = WithDescriptor()
    assert instance.fit_predict(3) == 6
    assert calls == [("WithDescriptor", (3,))]
    instance.enabled = False
    assert not hasattr(instance, "fit_predict")
    patching.uninstall()
    assert WithDescriptor.__dict__["fit_predict"] is original


def test_the_guard_is_per_thread():
    calls, handler = recorder()
    patching.install([Base], ["fit"], handler)

    def fit_in_thread() -> None:
        Base().fit(5)

    class Spawner(Base):
        def fit(self, value: int) -> int:
            worker = threading.Thread(target=fit_in_thread)
            worker.start()
            worker.join()
            return value

    patching.install([Spawner], ["fit"], handler)
    Spawner().fit(1)
    assert calls == [("Spawner", (1,)), ("Base", (5,))]
