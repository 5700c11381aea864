"""`mloop models ...`: list, show, versions, aliases, approvals, cards and deletes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json
from mloop.errors import InvalidInputError

if TYPE_CHECKING:
    from mloop.entities import ModelVersion
    from mloop.registry import ModelReference
    from mloop.storage.protocols import ModelRegistryStore

app = typer.Typer(
    help="The model registry: versions, aliases, approvals and model cards.",
    no_args_is_help=True,
)
alias_app = typer.Typer(help="Point aliases (champion, challenger ...) at versions.")
app.add_typer(alias_app, name="alias", no_args_is_help=True)

_FILTER_HELP = "Search filter, e.g. \"name LIKE 'churn%' AND tags.team = 'risk'\"."


def _registry() -> ModelRegistryStore:
    from mloop.client.context import get_store

    return get_store().registry


def _actor() -> str:
    from mloop.tracking.environment import current_user

    return current_user()


def _reference(text: str) -> ModelReference:
    from mloop.registry import parse_model_uri

    return parse_model_uri(text, require_scheme=False)


def _version_of(text: str) -> ModelVersion:
    from mloop.registry import resolve

    return resolve(_registry(), _reference(text))


def _pinned(text: str) -> tuple[str, int]:
    """NAME/VERSION (or an alias or latest, resolved now) as a name and version number."""
    reference = _reference(text)
    if reference.version is not None:
        return reference.name, reference.version
    version = _version_of(text)
    return version.name, version.version


def _as_json(item: Any) -> Any:
    return dataclasses.asdict(item)


@app.command("list")
def list_models(
    filter_string: str | None = typer.Option(None, "--filter", "-f", help=_FILTER_HELP),
    order_by: list[str] = typer.Option(
        [], "--order-by", "-o", help="e.g. 'last_updated_time DESC'."
    ),
    max_results: int = typer.Option(100, "--max", help="Page size."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a listing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List registered models with their latest version and aliases."""
    page = _registry().search_models(
        filter_string, order_by=order_by, max_results=max_results, page_token=page_token
    )
    if as_json:
        print_json({"models": [_as_json(m) for m in page], "next_page_token": page.next_page_token})
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("name", "latest", "aliases", "updated (UTC)", "description"):
        table.add_column(column, overflow="fold")
    for model in page:
        aliases = ", ".join(f"{a}→{v}" for a, v in model.aliases.items())
        table.add_row(
            model.name,
            str(model.latest_version or "-"),
            aliases or "-",
            format_ms(model.updated_at_ms, short=True),
            model.description or "",
        )
    table.caption = f"{len(page)} model(s)"
    console.print(table)
    if page.next_page_token:
        console.print(f"more models: add --page-token {page.next_page_token}", highlight=False)


def _versions_table(versions: list[ModelVersion]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("model", "version", "aliases", "approved", "run", "registered (UTC)", "by"):
        table.add_column(column, overflow="fold")
    for v in versions:
        table.add_row(
            v.name,
            str(v.version),
            ", ".join(v.aliases) or "-",
            "[green]yes[/]" if v.is_approved else "no",
            (v.run_id or "-")[:8],
            format_ms(v.created_at_ms, short=True),
            v.user_id or "-",
        )
    table.caption = f"{len(versions)} version(s)"
    return table


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Model name, or NAME/VERSION, NAME@ALIAS, NAME/latest."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a registered model (its tags, aliases, protection, recent versions) or one version."""
    if "/" in name or "@" in name:
        _show_version(_version_of(name), as_json=as_json)
        return
    registry = _registry()
    model = registry.get_model(name)
    versions = registry.search_versions(f"name = '{_quoted(name)}'", max_results=20)
    if as_json:
        print_json({"model": _as_json(model), "versions": [_version_json(v) for v in versions]})
        return
    header = Table.grid(padding=(0, 2))
    header.add_row("model", f"[bold]{model.name}[/]")
    header.add_row("description", model.description or "-")
    header.add_row("created (UTC)", format_ms(model.created_at_ms))
    header.add_row("aliases", ", ".join(f"{a} → {v}" for a, v in model.aliases.items()) or "-")
    header.add_row("protected", ", ".join(model.protected_aliases) or "-")
    for key in sorted(model.tags):
        header.add_row(f"tag {key}", model.tags[key])
    console.print(header)
    console.print(_versions_table(list(versions)))


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _version_json(version: ModelVersion) -> Any:
    """A version for `--json`, with its newest validation in short (`validation`, or null)."""
    from mloop.cli.gates import latest_validation_summary

    shown = _as_json(version)
    shown["validation"] = latest_validation_summary(version.name, version.version)
    return shown


def _show_version(version: ModelVersion, *, as_json: bool) -> None:
    if as_json:
        print_json(_version_json(version))
        return
    header = Table.grid(padding=(0, 2))
    header.add_row("version", f"[bold]{version.uri}[/]")
    header.add_row("source", version.source)
    header.add_row("run", version.run_id or "-")
    header.add_row("package digest", version.package_digest or "-")
    header.add_row("registered (UTC)", f"{format_ms(version.created_at_ms)} by {version.user_id}")
    header.add_row("aliases", ", ".join(version.aliases) or "-")
    header.add_row("description", version.description or "-")
    for key in sorted(version.tags):
        header.add_row(f"tag {key}", version.tags[key])
    console.print(header)
    for approval in version.approvals:
        console.print(
            f"approved by {approval.actor} at {format_ms(approval.at_ms)}: {approval.comment}",
            highlight=False,
        )
    from mloop.cli.gates import print_latest_validation

    print_latest_validation(version.name, version.version)
    if version.datasets:
        table = Table("dataset", "digest", "role", title="lineage", title_justify="left")
        for d in version.datasets:
            table.add_row(d.name, d.digest, d.context or "-")
        console.print(table)


@app.command("versions")
def versions(
    name: str | None = typer.Argument(None, help="Only this model's versions."),
    filter_string: str | None = typer.Option(
        None, "--filter", "-f", help="e.g. \"version > 2 AND tags.stage = 'qa'\"."
    ),
    order_by: list[str] = typer.Option([], "--order-by", "-o", help="e.g. 'version DESC'."),
    max_results: int = typer.Option(100, "--max", help="Page size."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a listing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List model versions (of one model, or matching a filter), newest first per model."""
    parts = [f"name = '{_quoted(name)}'"] if name else []
    if filter_string and filter_string.strip():
        parts.append(f"({filter_string})")
    registry = _registry()
    if name:
        registry.get_model(name)  # a clear "no such model" rather than an empty list
    page = registry.search_versions(
        " AND ".join(parts) or None,
        order_by=order_by,
        max_results=max_results,
        page_token=page_token,
    )
    if as_json:
        print_json(
            {"versions": [_as_json(v) for v in page], "next_page_token": page.next_page_token}
        )
        return
    console.print(_versions_table(list(page)))
    if page.next_page_token:
        console.print(f"more versions: add --page-token {page.next_page_token}", highlight=False)


@app.command("register")
def register(
    source: str = typer.Argument(..., help="The package: runs:/<run_id>/model, a path or a URI."),
    name: str = typer.Argument(..., help="The registered model's name."),
    description: str = typer.Option("", "--description", "-d", help="Version description."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Register a model package as the next version of a model (created when new).

    A runs:/ source or local folder must hold an mloop model package, whose digest and
    signature are recorded with the version.
    """
    from mloop.client.registry import register_model

    version = register_model(source, name, description=description)
    if as_json:
        print_json(_as_json(version))
        return
    console.print(f"registered [bold]{version.uri}[/]", highlight=False)


@alias_app.command("set")
def alias_set(
    name: str = typer.Argument(..., help="Model name."),
    alias: str = typer.Argument(..., help="Alias, e.g. champion."),
    version: int = typer.Argument(..., help="Version number to point it at."),
) -> None:
    """Point an alias at a version (moving it atomically if it pointed elsewhere)."""
    _registry().set_alias(name, alias, version, actor=_actor())
    console.print(f"{name}@{alias} → version {version}", highlight=False)


@alias_app.command("delete")
def alias_delete(
    name: str = typer.Argument(..., help="Model name."),
    alias: str = typer.Argument(..., help="Alias to remove."),
) -> None:
    """Remove an alias."""
    _registry().delete_alias(name, alias, actor=_actor())
    console.print(f"removed alias {alias!r} of {name}", highlight=False)


@alias_app.command("protect")
def alias_protect(
    name: str = typer.Argument(..., help="Model name."),
    alias: str = typer.Argument(..., help="Alias that only approved versions may take."),
    off: bool = typer.Option(False, "--off", help="Lift the protection instead."),
) -> None:
    """Declare an alias protected: moving it then needs an approved version."""
    _registry().set_alias_protection(name, alias, actor=_actor(), protected=not off)
    state = "no longer protected" if off else "protected: only approved versions may take it"
    console.print(f"{name}@{alias} is {state}", highlight=False)


@app.command("approve")
def approve(
    target: str = typer.Argument(..., help="NAME/VERSION, e.g. churn/3."),
    comment: str = typer.Option("", "--comment", "-m", help="Why, or what was checked."),
) -> None:
    """Record your approval of a model version (who and when go to the audit log)."""
    name, number = _pinned(target)
    approval = _registry().approve(name, number, actor=_actor(), comment=comment)
    console.print(
        f"approved {name}/{number} as {approval.actor} at {format_ms(approval.at_ms)}",
        highlight=False,
    )


@app.command("delete")
def delete(
    target: str = typer.Argument(..., help="NAME (the whole model) or NAME/VERSION."),
    force: bool = typer.Option(False, "--force", help="Also remove aliases that point at it."),
) -> None:
    """Delete a model version, or a whole model; aliases on it need --force."""
    registry = _registry()
    if "/" in target or "@" in target:
        name, number = _pinned(target)
        registry.delete_version(name, number, actor=_actor(), force=force)
        console.print(f"deleted {name}/{number}", highlight=False)
        return
    registry.delete_model(target, actor=_actor(), force=force)
    console.print(f"deleted model {target} and all its versions", highlight=False)


@app.command("tag")
def tag(
    target: str = typer.Argument(..., help="NAME (the model) or NAME/VERSION."),
    pairs: list[str] = typer.Argument(None, help="KEY=VALUE pairs to set."),
    remove: list[str] = typer.Option([], "--delete", help="A tag key to remove (repeatable)."),
) -> None:
    """Set (KEY=VALUE) or remove (--delete KEY) tags on a model or one of its versions."""
    name, number = _pinned(target) if "/" in target or "@" in target else (target, None)
    registry = _registry()
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"tags are KEY=VALUE, got {item!r}", field="tag")
        registry.set_tag(name, key, value, actor=_actor(), version=number)
    for key in remove:
        registry.delete_tag(name, key, actor=_actor(), version=number)
    where = f"{name}/{number}" if number is not None else name
    console.print(f"tags of {where} updated", highlight=False)


@app.command("describe")
def describe(
    target: str = typer.Argument(..., help="NAME (the model) or NAME/VERSION."),
    description: str = typer.Argument(..., help="The new description."),
) -> None:
    """Set the description of a model or of one of its versions."""
    registry = _registry()
    if "/" in target or "@" in target:
        name, number = _pinned(target)
        registry.update_version(name, number, actor=_actor(), description=description)
    else:
        registry.update_model(target, actor=_actor(), description=description)
    console.print(f"description of {target} updated", highlight=False)


def _card_fields(values: list[str]) -> dict[str, str]:
    from mloop.registry.cards import CARD_TAG_PREFIX

    fields = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--set takes FIELD=TEXT, got {item!r}", field="--set")
        fields[CARD_TAG_PREFIX + key.strip()] = value
    return fields


@app.command("card")
def card(
    target: str = typer.Argument(..., help="NAME/VERSION, NAME@ALIAS or NAME/latest."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write; .html gives HTML, anything else Markdown."
    ),
    fmt: str = typer.Option("both", "--format", help="md, html or both (with --output)."),
    set_fields: list[str] = typer.Option(
        [], "--set", help="Document a field first, e.g. intended_purpose='Churn triage'."
    ),
) -> None:
    """Write a model card (Markdown and HTML) laid out after the EU AI Act's Annex IV."""
    from mloop.client.context import get_store
    from mloop.registry.card_render import to_html, to_markdown
    from mloop.registry.cards import build_card

    if fmt not in {"md", "html", "both"}:
        raise InvalidInputError(f"--format takes md, html or both, got {fmt!r}", field="--format")
    version = _version_of(target)
    for key, value in _card_fields(set_fields).items():
        _registry().set_tag(version.name, key, value, actor=_actor())
    document = build_card(get_store(), _reference(f"{version.name}/{version.version}"))
    if output is None:
        console.print(to_markdown(document), markup=False, highlight=False)
        return
    written = []
    if output.suffix.lower() in {".html", ".htm"}:
        output.write_text(to_html(document), encoding="utf-8")
        written.append(output)
    else:
        if fmt in {"md", "both"}:
            output.write_text(to_markdown(document), encoding="utf-8")
            written.append(output)
        if fmt in {"html", "both"}:
            page = output.with_suffix(".html")
            page.write_text(to_html(document), encoding="utf-8")
            written.append(page)
    console.print("wrote " + ", ".join(str(p) for p in written), highlight=False)


# The validation gates live in cli/gates.py (this module stays about the registry itself).
from mloop.cli.gates import promote as _promote  # noqa: E402
from mloop.cli.gates import report as _report  # noqa: E402
from mloop.cli.gates import validate as _validate  # noqa: E402

app.command("validate")(_validate)
app.command("promote")(_promote)
app.command("report")(_report)
