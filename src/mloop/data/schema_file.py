"""Read and write schema documents (YAML or JSON), keeping line numbers so errors can point at them.

`Spec` wraps one mapping of a document with its dotted location (`columns.age.checks[0]`) and
offers typed getters that raise `SchemaFileError` naming the file, line and field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mloop.errors import SchemaFileError

_MISSING: Any = object()
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _LineDict(dict[str, Any]):
    """A mapping from a YAML document that remembers the line of each key."""

    line: int | None = None
    key_lines: dict[str, int]


class _DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: str, line: int, first_line: int) -> None:
        super().__init__(key)
        self.key = key
        self.line = line
        self.first_line = first_line


class _SchemaLoader(yaml.SafeLoader):
    """YAML 1.2-style booleans (only true/false), so `[NO, DE]` stays two country codes."""


_SchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SchemaLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _SchemaLoader, node: yaml.MappingNode) -> Iterator[_LineDict]:
    data = _LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str):
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in data.key_lines:
            raise _DuplicateKeyError(key, line, data.key_lines[key])
        data.key_lines[key] = line
        data[key] = loader.construct_object(value_node, deep=True)


_SchemaLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file (by suffix) into Python values.

    Raises:
        SchemaFileError: the file is missing or is not valid YAML/JSON.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaFileError(
            f"cannot read the file: {exc.strerror}", field="", path=source
        ) from exc
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaFileError(
                f"not valid JSON: {exc.msg}", field="", path=source, line=exc.lineno
            ) from exc
    try:
        return yaml.load(text, Loader=_SchemaLoader)  # noqa: S506 (a SafeLoader subclass)
    except _DuplicateKeyError as exc:
        raise SchemaFileError(
            f"key {exc.key!r} appears twice (first on line {exc.first_line})",
            field=exc.key,
            path=source,
            line=exc.line,
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaFileError(
            f"not valid YAML: {problem}", field="", path=source, line=line
        ) from exc


def write_document(document: Mapping[str, Any], path: Path) -> None:
    """Write a document as JSON (`.json` suffix) or YAML (anything else), keys in given order."""
    if path.suffix.lower() == ".json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(
            dict(document), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
        )
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Spec:
    """One mapping of a schema document, with where it is, for precise error messages.

    Attributes:
        data: the mapping.
        location: dotted path from the document root (empty for the root).
        source: the file name, when the document came from a file.
    """

    data: Mapping[str, Any]
    location: str = ""
    source: str | None = None

    @classmethod
    def root(cls, document: object, *, source: str | None = None) -> Spec:
        """Wrap a whole document, which must be a mapping.

        Raises:
            SchemaFileError: the document is not a mapping.
        """
        if not isinstance(document, Mapping):
            raise SchemaFileError(
                f"a schema must be a mapping with `version` and `columns`, got "
                f"{type(document).__name__}",
                field="",
                path=source,
            )
        return cls(document, "", source)

    def where(self, key: str | int | None = None) -> str:
        """The dotted location of `key` inside this mapping (or of the mapping itself)."""
        if key is None:
            return self.location
        if isinstance(key, int):
            return f"{self.location}[{key}]"
        return f"{self.location}.{key}" if self.location else key

    def line(self, key: str | None = None) -> int | None:
        """The line of `key` (or of the mapping), when the document was YAML."""
        if not isinstance(self.data, _LineDict):
            return None
        if key is not None and key in self.data.key_lines:
            return self.data.key_lines[key]
        return self.data.line

    def error(self, key: str | None, message: str) -> SchemaFileError:
        """A `SchemaFileError` about `key` of this mapping (to raise)."""
        return SchemaFileError(
            message, field=self.where(key), path=self.source, line=self.line(key)
        )

    def has(self, key: str) -> bool:
        """True when the mapping has `key` with a non-null value."""
        return self.data.get(key) is not None

    def check_keys(self, allowed: set[str]) -> None:
        """Refuse keys outside `allowed`, so typos do not silently disable a rule."""
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown key; expected one of {sorted(allowed)}")

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """The raw value of `key`; required when no default is given."""
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise self.error(key, "is required")
            return default
        return value

    def string(self, key: str, default: Any = _MISSING) -> Any:
        """A string value."""
        value = self.get(key, default)
        if value is not default and not isinstance(value, str):
            raise self.error(key, f"expected text, got {value!r}")
        return value

    def number(self, key: str, default: Any = _MISSING) -> Any:
        """An int or float value (booleans refused)."""
        value = self.get(key, default)
        if value is not default and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise self.error(key, f"expected a number, got {value!r}")
        return value

    def rate(self, key: str, default: Any = _MISSING) -> Any:
        """A number between 0 and 1."""
        value = self.number(key, default)
        if value is not default and not 0 <= value <= 1:
            raise self.error(key, f"expected a rate between 0 and 1, got {value!r}")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        """A true/false value."""
        value = self.get(key, default)
        if value is not default and not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: Any = _MISSING) -> Any:
        """One of `options`."""
        value = self.get(key, default)
        if value is not default and value not in options:
            raise self.error(key, f"expected one of {list(options)}, got {value!r}")
        return value

    def items(self, key: str, default: Any = _MISSING) -> Any:
        """A list value."""
        value = self.get(key, default)
        if value is not default and not isinstance(value, list):
            raise self.error(key, f"expected a list, got {value!r}")
        return value

    def child(self, key: str) -> Spec:
        """The mapping under `key`."""
        value = self.get(key)
        if not isinstance(value, Mapping):
            raise self.error(key, f"expected a mapping, got {value!r}")
        return Spec(value, self.where(key), self.source)

    def children(self, key: str) -> list[Spec]:
        """The list of mappings under `key` (an absent key is an empty list)."""
        specs = []
        for index, item in enumerate(self.items(key, [])):
            location = f"{self.where(key)}[{index}]"
            if not isinstance(item, Mapping):
                raise SchemaFileError(
                    f"expected a mapping, got {item!r}",
                    field=location,
                    path=self.source,
                    line=self.line(key),
                )
            specs.append(Spec(item, location, self.source))
        return specs
