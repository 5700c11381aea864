"""Quickstart stages 1-2, data: a bundled dataset, its inferred schema and validation.

The schema comes from the training split; the test split and a damaged copy are validated
against it, to show what validation catches.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from mloop.errors import MissingExtraError

if TYPE_CHECKING:
    from mloop.quickstart import QuickstartContext


def _load() -> Any:
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError as exc:
        raise MissingExtraError("sklearn", "scikit-learn") from exc
    return load_breast_cancer(as_frame=True).frame


def _damaged(frame: Any) -> Any:
    """A copy with the faults validation exists for: a unit error, gaps and an unknown label."""
    broken = frame.copy()
    broken.loc[broken.index[:12], "mean radius"] *= -1
    broken.loc[broken.index[20:60], "worst texture"] = None
    broken["target"] = broken["target"].astype("object")
    broken.loc[broken.index[5], "target"] = 7
    return broken


def run(ctx: QuickstartContext) -> None:
    """Split the data, infer and save a schema, validate the test split and a damaged copy."""
    from sklearn.model_selection import train_test_split

    import mloop.data

    frame = _load()
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=frame["target"])
    features = [c for c in frame.columns if c != "target"]
    ctx.shared.update(train=train, test=test, features=features, target="target")

    ctx.console.rule("[bold]1-2 · data and validation")
    schema = mloop.data.infer_schema(train)
    schema_path = Path(ctx.output_dir) / "schema.yaml"
    schema.save(schema_path)
    ctx.shared["schema_path"] = schema_path
    ctx.console.print(
        f"breast-cancer data bundled with scikit-learn: {len(train)} training rows, "
        f"{len(test)} test rows, {len(features)} features"
    )
    ctx.console.print(f"schema inferred from the training split: {schema_path}")
    _snapshot(ctx, train, test)
    clean = mloop.data.validate(test, schema, quality=False)
    ctx.console.print(f"test split:     [green]{clean.summary()}[/]")
    broken = mloop.data.validate(_damaged(test), schema, quality=False)
    ctx.console.print(f"damaged copy:   [red]{broken.summary()}[/]")
    ctx.console.print(_violations(broken))
    ctx.shared["validation"] = clean


def _snapshot(ctx: QuickstartContext, train: Any, test: Any) -> None:
    """Version both splits as datasets, so the runs can name exactly the data they used."""
    import mloop.data

    for split, frame in (("train", train), ("test", test)):
        added = mloop.data.snapshot(
            frame, f"quickstart-{split}", message=f"breast-cancer {split} split"
        )
        ctx.shared[f"{split}_dataset"] = added.version
        state = "new version" if added.created else "unchanged"
        ctx.console.print(
            f"{split} split versioned as {added.version.uri} ({state}, "
            f"{added.version.row_count} rows)",
            highlight=False,
        )


def _violations(result: Any) -> Table:
    table = Table("severity", "column", "rule", "rows", "what", title="what validation caught")
    for violation in result.violations[:8]:
        style = "red" if violation.severity.value == "error" else "yellow"
        table.add_row(
            f"[{style}]{violation.severity.value}[/]",
            violation.column or ", ".join(violation.columns),
            violation.rule,
            str(violation.failing_rows),
            violation.message,
        )
    return table
