"""`mloop models validate` and `mloop models promote`: the validation gates from the shell.

Thin: parse, call `mloop.gates` on the default store, render a table of gates with their
numbers. `validate` exits 0 only when every gate passes, and 8 (the refused-promotion code)
when one does not, so a CI step fails on a model that is not good enough.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from mloop.cli.errors import GATES_FAILED_EXIT_CODE
from mloop.cli.output import console, print_json
from mloop.errors import InvalidInputError

if TYPE_CHECKING:
    from mloop.gates import Policy, ValidationReport

DEFAULT_POLICY = Path("mloop-policy.yaml")
_STYLES = {"pass": "[green]pass[/]", "fail": "[red]fail[/]", "error": "[yellow]error[/]"}


def _actor() -> str:
    from mloop.tracking.environment import current_user

    return current_user()


def _policy(path: Path | None) -> Policy | None:
    """The policy at `path`, else ./mloop-policy.yaml when present, else None."""
    from mloop.gates import load_policy

    if path is None and DEFAULT_POLICY.is_file():
        path = DEFAULT_POLICY
    return load_policy(path) if path is not None else None


@contextmanager
def _bar(model: str) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar over the validation's steps (gates)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"validating {model}", total=None)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"validating {model}: {step}", completed=done, total=total)

        yield update


def gates_table(report: ValidationReport) -> Table:
    """A table of the gates, their status and their numbers."""
    verdict = "[green]passed[/]" if report.passed else "[red]FAILED[/]"
    table = Table(box=box.SIMPLE_HEAD, title=f"{report.model}/{report.version}: {verdict}")
    for column in ("gate", "status", "numbers"):
        table.add_column(column, overflow="fold")
    for result in report.gates:
        table.add_row(result.gate, _STYLES[result.status], escape(result.summary))
    return table


def _print_failures(report: ValidationReport) -> None:
    for line in report.failures:
        console.print(f"  [red]✗[/] {escape(line)}", highlight=False)


def validate(
    model: str = typer.Argument(..., help="The version: NAME/VERSION, e.g. churn/7."),
    policy: Path | None = typer.Option(
        None, "--policy", "-p", help=f"The policy file (default: ./{DEFAULT_POLICY})."
    ),
    alias: str | None = typer.Option(
        None, "--alias", help="The alias it is meant to take (for the approval gate)."
    ),
    summary_md: Path | None = typer.Option(
        None, "--summary-md", help="Also write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)."
    ),
    html: Path | None = typer.Option(None, "--html", help="Also write the HTML report here."),
    trusted: bool = typer.Option(False, "--trusted", help="Allow loading pickled models."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON report for scripts."),
) -> None:
    """Evaluate every gate of a policy on a model version and store the report with it.

    Exit code 0 when every gate passes, 8 when one fails or cannot be evaluated.
    """
    from mloop.client.context import get_store
    from mloop.client.gates import version_loader
    from mloop.gates import render_html, validate_version

    parsed = _policy(policy)
    if parsed is None:
        raise InvalidInputError(
            f"no policy: pass --policy PATH (or put {DEFAULT_POLICY} in this folder)",
            field="--policy",
        )
    with _bar(model) as progress:
        validation = validate_version(
            get_store(),
            model,
            parsed,
            actor=_actor(),
            alias=alias,
            loader=version_loader(trusted),
            progress=progress,
        )
    report = validation.report
    if summary_md is not None:
        summary_md.write_text(report.to_markdown(), encoding="utf-8")
    if html is not None:
        html.write_text(render_html(report), encoding="utf-8")
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(gates_table(report))
        _print_failures(report)
        console.print(
            f"report #{validation.record.id} stored with {report.model}/{report.version} "
            f"(`mloop models show {report.model}/{report.version}`)",
            highlight=False,
        )
    if not report.passed:
        raise typer.Exit(GATES_FAILED_EXIT_CODE)


def promote(
    model: str = typer.Argument(..., help="The version: NAME/VERSION, e.g. churn/7."),
    alias: str = typer.Option(..., "--alias", "-a", help="The alias to move, e.g. champion."),
    policy: Path | None = typer.Option(
        None,
        "--policy",
        "-p",
        help=f"The policy file (default: ./{DEFAULT_POLICY} when present; without one only "
        "the registry's alias protection applies).",
    ),
    override: bool = typer.Option(
        False, "--override", help="Promote despite failing gates (admins; needs --reason)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why the override (audited)."),
    trusted: bool = typer.Option(False, "--trusted", help="Allow loading pickled models."),
) -> None:
    """Validate a version (or reuse its stored report), then move the alias, or refuse.

    A refusal lists every failing gate with its numbers and exits with code 8.
    """
    from mloop.client.context import get_store
    from mloop.client.gates import version_loader
    from mloop.gates import promote_version, validate_version

    if override != (reason is not None):
        raise InvalidInputError(
            "--override and --reason go together: an override must say why", field="--reason"
        )
    parsed = _policy(policy)
    store, actor, loader = get_store(), _actor(), version_loader(trusted)
    if parsed is None:
        console.print("[yellow]no policy: no gates checked[/]", highlight=False)
    else:
        with _bar(model) as progress:
            checked = validate_version(
                store,
                model,
                parsed,
                actor=actor,
                alias=alias,
                reuse=True,
                loader=loader,
                progress=progress,
            )
        console.print(gates_table(checked.report))
        if checked.reused:
            origin = checked.report.reused_from or checked.record.id
            console.print(
                f"reused the gates of report #{origin} (same version, policy, data and "
                f"champion; approval checked now: report #{checked.record.id})",
                highlight=False,
            )
    promotion = promote_version(
        store, model, alias, actor=actor, policy=parsed, override_reason=reason, loader=loader
    )
    was = f" (was version {promotion.previous})" if promotion.previous is not None else ""
    if promotion.overridden:
        console.print(
            f"[yellow]override by {actor}[/]: {len(promotion.overridden)} failing limit(s) "
            f"let through, reason audited: {promotion.reason}",
            highlight=False,
        )
    console.print(
        f"{promotion.name}@{promotion.alias} → version {promotion.version}{was}", highlight=False
    )


def latest_validation_summary(name: str, version: int) -> dict[str, object] | None:
    """The newest validation of a version in short (for `mloop models show --json`), or None."""
    from mloop.client.context import get_store

    latest = get_store().validation_reports.find_latest(name, version)
    if latest is None:
        return None
    return {
        "id": latest.id,
        "passed": latest.passed,
        "gates": latest.gates,
        "holdout": latest.holdout,
        "policy_digest": latest.policy_digest,
        "report_digest": latest.report_digest,
        "actor": latest.actor,
        "created_at_ms": latest.created_at_ms,
    }


def print_latest_validation(name: str, version: int) -> None:
    """One line about the version's newest validation report (for `mloop models show`)."""
    from mloop.cli.output import format_ms
    from mloop.client.context import get_store

    latest = get_store().validation_reports.find_latest(name, version)
    if latest is None:
        console.print("validation: none yet (`mloop models validate ...`)", highlight=False)
        return
    verdict = "[green]passed[/]" if latest.passed else "[red]FAILED[/]"
    gates = ", ".join(f"{gate} {status}" for gate, status in latest.gates.items())
    console.print(
        f"validation: {verdict} ({gates}) on {latest.holdout}, "
        f"{format_ms(latest.created_at_ms)} by {latest.actor} (report #{latest.id})",
        highlight=False,
    )


def report(
    model: str = typer.Argument(..., help="The version: NAME/VERSION, e.g. churn/7."),
    report_id: int | None = typer.Option(None, "--id", help="A report number (default: newest)."),
    html: Path | None = typer.Option(None, "--html", help="Write the stored HTML page here."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored JSON report."),
    list_all: bool = typer.Option(False, "--list", help="List every stored report instead."),
) -> None:
    """Show a stored validation report of a version (the newest, or --id), or --list them."""
    from mloop.cli.output import format_ms
    from mloop.client.context import get_store
    from mloop.errors import NotFoundError
    from mloop.gates import read_report, read_report_html
    from mloop.gates.validate import resolve_version

    store = get_store()
    version = resolve_version(store, model)
    stored = store.validation_reports.list(version.name, version.version)
    if list_all:
        table = Table(box=box.SIMPLE_HEAD)
        for column in ("#", "passed", "holdout", "not passed", "when (UTC)", "by"):
            table.add_column(column, overflow="fold")
        for item in stored:
            failing = [g for g, status in item.gates.items() if status != "pass"]
            table.add_row(
                str(item.id),
                "[green]yes[/]" if item.passed else "[red]no[/]",
                escape(item.holdout),
                escape(", ".join(failing) or "all pass"),
                format_ms(item.created_at_ms),
                escape(item.actor),
            )
        console.print(table)
        return
    chosen = next((r for r in stored if report_id in (None, r.id)), None)
    if chosen is None:
        which = f"report #{report_id}" if report_id is not None else "validation report yet"
        raise NotFoundError(
            f"{version.uri} has no {which}; run `mloop models validate "
            f"{version.name}/{version.version} --policy ...` (`--list` shows the stored ones)"
        )
    if html is not None:
        html.write_text(read_report_html(store, chosen), encoding="utf-8")
    found = read_report(store, chosen)
    if as_json:
        print_json(found.to_dict())
        return
    console.print(gates_table(found))
    _print_failures(found)
    console.print(
        f"report #{chosen.id} on {chosen.holdout}, {format_ms(chosen.created_at_ms)} by "
        f"{chosen.actor}",
        highlight=False,
    )
