"""Wrapping methods of classes for autolog: install, remove exactly, and the outermost-call guard.

A wrapper is set on each listed class itself, around the method the class resolves (its own or an
inherited one), so classes that inherit `fit` from an unlisted base (`GridSearchCV` from
`BaseSearchCV`) are covered too. Removing a wrapper restores the class's own attribute, or deletes
the wrapper when the method was inherited, so the class is exactly as before.

Only the outermost patched call in a thread is handed to the handler: a Pipeline's steps or a
search's candidate fits run their own method unwrapped, as nested calls.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FunctionType
from typing import Any

# handler(instance, call, args, kwargs): `call` is the original method bound to the instance.
Handler = Callable[[Any, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]

_NOTHING = object()


@dataclass(frozen=True)
class _Patch:
    owner: type
    name: str
    own: object  # the class's own attribute before patching, or _NOTHING when inherited
    original: object  # the attribute the wrapper calls (own or inherited)


_patches: dict[tuple[type, str], _Patch] = {}
_depth = threading.local()


def _guarded(handler: Handler) -> Handler:
    """Hand only the outermost call of this thread to `handler`; nested calls run unwrapped."""

    def run(instance: Any, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        if getattr(_depth, "level", 0):
            return call(*args, **kwargs)
        _depth.level = 1
        try:
            return handler(instance, call, args, kwargs)
        finally:
            _depth.level = 0

    return run


def _wrap_function(original: FunctionType, run: Handler) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return run(self, original.__get__(self, type(self)), args, kwargs)

    return patched


class _PatchedDescriptor:
    """Wraps a descriptor method (`available_if`, property) and keeps its availability rules."""

    def __init__(self, original: Any, run: Handler) -> None:
        self._original = original
        self._run = run
        self.__doc__ = getattr(original, "__doc__", None)

    def __set_name__(self, owner: type, name: str) -> None:
        """Nothing to do: the wrapped descriptor already knows its name."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # Raises AttributeError where the original is unavailable, so hasattr() is unchanged.
        bound = self._original.__get__(instance, owner)
        if instance is None:
            return bound
        run = self._run

        @functools.wraps(bound)
        def patched(*args: Any, **kwargs: Any) -> Any:
            return run(instance, bound, args, kwargs)

        return patched


def _resolve(cls: type, name: str) -> object:
    """The attribute `cls` resolves for `name` before any patching, or _NOTHING."""
    for base in cls.__mro__:
        if name in base.__dict__:
            patch = _patches.get((base, name))
            return patch.original if patch is not None else base.__dict__[name]
    return _NOTHING


def install(classes: Iterable[type], names: Iterable[str], handler: Handler) -> int:
    """Wrap `names` of every class in `classes` with `handler`; already wrapped ones are skipped.

    Returns:
        How many methods were wrapped now.
    """
    run = _guarded(handler)
    planned: list[_Patch] = []
    for cls in classes:
        for name in names:
            if (cls, name) in _patches:
                continue
            original = _resolve(cls, name)
            if original is _NOTHING or not hasattr(original, "__get__"):
                continue
            planned.append(_Patch(cls, name, cls.__dict__.get(name, _NOTHING), original))
    for patch in planned:
        original = patch.original
        wrapper = (
            _wrap_function(original, run)
            if isinstance(original, FunctionType)
            else _PatchedDescriptor(original, run)
        )
        setattr(patch.owner, patch.name, wrapper)
        _patches[(patch.owner, patch.name)] = patch
    return len(planned)


def uninstall() -> int:
    """Remove every wrapper, restoring each class exactly.

    Returns:
        How many methods were restored.
    """
    count = len(_patches)
    for (owner, name), patch in list(_patches.items()):
        if patch.own is _NOTHING:
            delattr(owner, name)
        else:
            setattr(owner, name, patch.own)
        del _patches[(owner, name)]
    return count


def is_installed() -> bool:
    """Whether any wrapper is in place."""
    return bool(_patches)
