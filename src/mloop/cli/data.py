"""`mloop data ...`: data schemas and validation.

Exit codes of `mloop data validate`: 0 when no error-severity rule is broken (warnings allowed,
unless `--fail-on-warning`), 1 when one is, 2 when the data or schema file cannot be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mloop.cli.errors import MloopGroup
from mloop.cli.output import console

if TYPE_CHECKING:
    from mloop.data import QualityReport, Schema, ValidationResult, Violation

app = typer.Typer(
    help="Version datasets, infer data schemas and validate data against them.",
    no_args_is_help=True,
    cls=MloopGroup,
)
schema_app = typer.Typer(
    help="Infer and inspect data schemas.", no_args_is_help=True, cls=MloopGroup
)
app.add_typer(schema_app, name="schema")

EXIT_INVALID_DATA = 1
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}
_DATA_HELP = "A Parquet, CSV/TSV or Arrow (Feather) file."


@schema_app.command("infer")
def infer(
    data: Path = typer.Argument(..., help=_DATA_HELP),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Where to write the schema: .yaml/.yml, or .json."
    ),
    max_categories: int = typer.Option(
        20, help="Text columns with at most this many distinct values get allowed values."
    ),
    description: str | None = typer.Option(None, help="Free text stored in the schema."),
) -> None:
    """Infer a schema from a reference data file and write it for people to edit."""
    from mloop.data import infer_schema

    schema = infer_schema(data, max_categories=max_categories, description=description)
    schema.save(output)
    console.print(_schema_table(schema))
    console.print(
        f"wrote {output}: {len(schema.columns)} columns inferred from {schema.reference_rows} "
        f"rows; edit it, then run `mloop data validate DATA --schema {output}`",
        highlight=False,
    )


@app.command("validate")
def validate(
    data: Path = typer.Argument(..., help=_DATA_HELP),
    schema: Path = typer.Option(..., "--schema", "-s", help="The schema file (YAML or JSON)."),
    json_path: str | None = typer.Option(
        None, "--json", help="Write the result as JSON to this file, or to stdout with `-`."
    ),
    max_examples: int = typer.Option(3, help="Failing rows shown per broken rule."),
    show_quality: bool = typer.Option(
        False, "--show-quality", help="Also print the data-quality summary."
    ),
    fail_on_warning: bool = typer.Option(
        False, "--fail-on-warning", help="Exit 1 on warnings too, not only on errors."
    ),
) -> None:
    """Validate a data file against a schema; exit 1 when an error-severity rule is broken."""
    from mloop.data import validate as validate_data

    result = validate_data(data, schema, max_examples=max_examples)
    if json_path == "-":
        typer.echo(result.to_json())
    else:
        if json_path is not None:
            Path(json_path).write_text(result.to_json() + "\n", encoding="utf-8")
        _render(result, show_quality=show_quality)
    if result.has_errors or (fail_on_warning and result.has_warnings):
        raise typer.Exit(EXIT_INVALID_DATA)


def _render(result: ValidationResult, *, show_quality: bool) -> None:
    if result.violations:
        console.print(_violations_table(result.violations))
    if show_quality and result.quality is not None:
        console.print(_quality_table(result.quality))
    style = "bold green" if result.is_valid else "bold red"
    console.print(f"[{style}]{result.summary()}[/]", highlight=False)


def _violations_table(violations: tuple[Violation, ...]) -> Table:
    table = Table(title="Violations", title_justify="left")
    for header in ("severity", "column / check", "rule"):
        table.add_column(header, overflow="fold")
    table.add_column("failing rows", justify="right")
    for header in ("examples", "message"):
        table.add_column(header, overflow="fold")
    for violation in violations:
        severity = violation.severity.value
        where = violation.column if violation.column is not None else violation.check
        rows = f"{violation.failing_rows:,} ({violation.failing_rate:.2%})"
        table.add_row(
            f"[{_SEVERITY_STYLE[severity]}]{severity}[/]",
            where or "",
            violation.rule,
            rows if violation.failing_rows else "-",
            _examples(violation),
            violation.message,
        )
    return table


def _examples(violation: Violation) -> str:
    return ", ".join(f"row {e.row}: {_short(e.value)}" for e in violation.examples)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schema_table(schema: Schema) -> Table:
    table = Table(title="Inferred schema", title_justify="left")
    for header in ("column", "type", "nullable", "unique", "rules"):
        table.add_column(header)
    for column in schema.columns:
        rules = ", ".join(f"{rule.kind} ({rule.severity.value})" for rule in column.checks)
        table.add_row(
            column.name,
            column.type.value,
            "yes" if column.nullable else "no",
            "yes" if column.unique else "",
            rules,
        )
    return table


def _quality_table(report: QualityReport) -> Table:
    table = Table(title=f"Data quality ({report.row_count:,} rows)", title_justify="left")
    headers = ("column", "type", "missing", "distinct", "min", "max", "mean", "top values")
    for header in headers:
        table.add_column(header, overflow="fold")
    for column in report.columns:
        top = ", ".join(f"{_short(v.value, 20)} ({v.count:,})" for v in column.top_values[:3])
        table.add_row(
            column.name,
            column.type,
            f"{column.missing_rate:.2%}",
            "-" if column.distinct_count is None else f"{column.distinct_count:,}",
            _short(column.min, 20) if column.min is not None else "",
            _short(column.max, 20) if column.max is not None else "",
            "" if column.mean is None else f"{column.mean:.6g}",
            top,
        )
    return table
