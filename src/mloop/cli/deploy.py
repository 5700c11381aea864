"""`mloop deploy ...`: create, change, show, list, roll back and delete deployments; k8s YAML."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json

if TYPE_CHECKING:
    from mloop.entities.deployments import Deployment, DeploymentRevision, Route
    from mloop.storage.protocols import DeploymentStore

app = typer.Typer(
    help="Deployments: traffic splits between model versions (canary, A/B, shadow), rollback.",
    no_args_is_help=True,
)

_ROUTE_HELP = (
    "TARGET=PERCENT, repeatable: an alias (champion, @champion) or a version (3, /3) and its "
    "share of the traffic; the shares sum to 100."
)
_SHADOW_HELP = "A target that gets a copy of the traffic; its answers are logged, never returned."
_JSON_HELP = "Print JSON for scripts."


def _store() -> DeploymentStore:
    from mloop.client.context import get_store

    return get_store().deployments


def _actor() -> str:
    from mloop.tracking.environment import current_user

    return current_user()


def _routes(texts: list[str]) -> list[Route]:
    from mloop.entities.deployments import Route

    return [Route.parse(text) for text in texts]


def _as_json(item: Deployment | DeploymentRevision) -> dict[str, Any]:
    data = dataclasses.asdict(item)
    data["routes"] = [{"target": r.target.text, "weight": r.weight} for r in item.routes]
    data["shadows"] = [s.text for s in item.shadows]
    return data


def _split(item: Deployment | DeploymentRevision) -> str:
    return ", ".join(f"{r.target} {r.weight}%" for r in item.routes)


def _show(item: Deployment) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_row("deployment", f"[bold]{item.name}[/] (revision {item.revision})")
    grid.add_row("model", item.model)
    grid.add_row("description", item.description or "-")
    grid.add_row("sticky key", item.sticky_key or "- (requests are routed at random)")
    grid.add_row("created (UTC)", f"{format_ms(item.created_at_ms)} by {item.created_by}")
    grid.add_row("changed (UTC)", f"{format_ms(item.updated_at_ms)} by {item.updated_by}")
    console.print(grid)
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("role", "target", "model reference", "traffic"):
        table.add_column(column)
    for route in item.routes:
        table.add_row("route", route.target.text, route.target.uri(item.model), f"{route.weight}%")
    for shadow in item.shadows:
        table.add_row("shadow", shadow.text, shadow.uri(item.model), "copy")
    console.print(table)


def _done(item: Deployment, verb: str, *, as_json: bool) -> None:
    if as_json:
        print_json(_as_json(item))
        return
    console.print(
        f"{verb} deployment [bold]{item.name}[/] (revision {item.revision}): "
        f"{item.model} {_split(item)}",
        highlight=False,
    )


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Deployment name, e.g. churn-api."),
    model: str = typer.Option(..., "--model", "-m", help="The registered model it serves."),
    route: list[str] = typer.Option(..., "--route", "-r", help=_ROUTE_HELP),
    shadow: list[str] = typer.Option([], "--shadow", "-s", help=_SHADOW_HELP),
    sticky_key: str | None = typer.Option(
        None, "--sticky-key", help="Request header or JSON field pinning a caller to a route."
    ),
    description: str = typer.Option("", "--description", "-d", help="Free text."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Create a deployment, e.g. --model churn --route champion=90 --route challenger=10."""
    created = _store().create(
        name,
        model,
        routes=_routes(route),
        actor=_actor(),
        shadows=shadow,
        sticky_key=sticky_key,
        description=description,
    )
    _done(created, "created", as_json=as_json)


@app.command("update")
def update(
    name: str = typer.Argument(..., help="Deployment name."),
    model: str | None = typer.Option(None, "--model", "-m", help="Serve another model."),
    route: list[str] = typer.Option([], "--route", "-r", help=f"New split. {_ROUTE_HELP}"),
    shadow: list[str] = typer.Option([], "--shadow", "-s", help=f"New shadows. {_SHADOW_HELP}"),
    no_shadows: bool = typer.Option(False, "--no-shadows", help="Remove every shadow."),
    sticky_key: str | None = typer.Option(None, "--sticky-key", help="New sticky key."),
    no_sticky_key: bool = typer.Option(False, "--no-sticky-key", help="Route at random."),
    description: str | None = typer.Option(None, "--description", "-d", help="Free text."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Change a deployment (a new revision); what is not given stays as it is."""
    from mloop.errors import InvalidInputError

    if no_shadows and shadow:
        raise InvalidInputError("give --shadow or --no-shadows, not both", field="shadows")
    if no_sticky_key and sticky_key:
        raise InvalidInputError(
            "give --sticky-key or --no-sticky-key, not both", field="sticky_key"
        )
    shadows: list[str] | None = [] if no_shadows else (shadow or None)
    updated = _store().update(
        name,
        actor=_actor(),
        model=model,
        routes=_routes(route) if route else None,
        shadows=shadows,
        sticky_key="" if no_sticky_key else sticky_key,
        description=description,
    )
    _done(updated, "updated", as_json=as_json)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Deployment name."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Show a deployment's current configuration."""
    item = _store().get(name)
    if as_json:
        print_json(_as_json(item))
        return
    _show(item)


@app.command("list")
def list_deployments(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """List deployments with their model, split and revision."""
    found = _store().list(model=model)
    if as_json:
        print_json({"deployments": [_as_json(d) for d in found]})
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("name", "model", "routes", "shadows", "sticky key", "rev", "changed (UTC)"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(
            item.name,
            item.model,
            _split(item),
            ", ".join(s.text for s in item.shadows) or "-",
            item.sticky_key or "-",
            str(item.revision),
            f"{format_ms(item.updated_at_ms, short=True)} {item.updated_by}",
        )
    table.caption = f"{len(found)} deployment(s)"
    console.print(table)


@app.command("rollback")
def rollback(
    name: str = typer.Argument(..., help="Deployment name."),
    to_revision: int | None = typer.Option(
        None, "--to-revision", help="Restore this revision (default: the previous one)."
    ),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Return to the previous configuration at once (a new revision equal to it)."""
    store = _store()
    current = store.get(name)
    rolled = store.rollback(
        name, actor=_actor(), to_revision=to_revision, from_revision=current.revision
    )
    if as_json:
        print_json(_as_json(rolled))
        return
    restored = to_revision if to_revision is not None else current.revision - 1
    console.print(
        f"rolled back deployment [bold]{name}[/] to the configuration of revision {restored} "
        f"(now revision {rolled.revision}): {rolled.model} {_split(rolled)}",
        highlight=False,
    )


@app.command("history")
def history(
    name: str = typer.Argument(..., help="Deployment name."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Every revision of a deployment, oldest first."""
    revisions = _store().history(name)
    if as_json:
        print_json({"name": name, "revisions": [_as_json(r) for r in revisions]})
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("rev", "action", "by", "at (UTC)"):
        table.add_column(column, no_wrap=True)
    for column in ("model", "routes", "shadows"):
        table.add_column(column, overflow="fold")
    for item in revisions:
        action = item.action
        if item.restored_from is not None:
            action = f"{action} to {item.restored_from}"
        table.add_row(
            str(item.revision),
            action,
            item.actor,
            format_ms(item.at_ms, short=True),
            item.model,
            _split(item),
            ", ".join(s.text for s in item.shadows) or "-",
        )
    console.print(table)


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="Deployment name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a deployment and its revisions (servers following it stop finding it)."""
    store = _store()
    item = store.get(name)
    if not yes:
        typer.confirm(
            f"delete deployment {name} ({item.model} {_split(item)}, {item.revision} revision(s))?",
            abort=True,
        )
    store.delete(name, actor=_actor())
    console.print(f"deleted deployment {name}", highlight=False)


@app.command("k8s")
def k8s(
    name: str = typer.Argument(..., help="Deployment name (it names the Kubernetes objects)."),
    image: str = typer.Option(
        "mloop:latest", "--image", help="Image with mloop and the model's requirements."
    ),
    replicas: int = typer.Option(2, "--replicas", help="Pods to start with (autoscaler minimum)."),
    max_replicas: int = typer.Option(10, "--max-replicas", help="Autoscaler maximum."),
    cpu: str = typer.Option("500m", "--cpu", help="CPU request per pod."),
    memory: str = typer.Option("512Mi", "--memory", help="Memory request per pod."),
    memory_limit: str = typer.Option("1Gi", "--memory-limit", help="Memory limit per pod."),
    workers: int = typer.Option(1, "--workers", help="Inference workers per pod."),
    secret: str = typer.Option(
        "mloop-tracking",
        "--secret",
        help="Secret with keys tracking-uri and (optional) tracking-token.",
    ),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Namespace."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write deployment.yaml, service.yaml, hpa.yaml here."
    ),
) -> None:
    """Write Kubernetes manifests (Deployment, Service, HPA) running `mloop serve --deployment`.

    The deployment must exist in the store; its split is read by the pods at run time, so
    later `mloop deploy update` or `rollback` need no new manifests. Without --out the
    manifests are printed as one YAML stream for `kubectl apply -f -`.
    """
    from mloop.serving.kubernetes import ManifestOptions, manifests, to_yaml, write_manifests

    _store().get(name)  # a clear "no such deployment" before writing anything
    options = ManifestOptions(
        image=image,
        replicas=replicas,
        max_replicas=max_replicas,
        cpu_request=cpu,
        memory_request=memory,
        memory_limit=memory_limit,
        workers=workers,
        secret_name=secret,
        namespace=namespace,
    )
    if out is None:
        print(to_yaml(manifests(name, options)), end="")  # noqa: T201 - the command's output
        return
    for path in write_manifests(name, out, options):
        console.print(f"wrote {path}", highlight=False)
    console.print(
        f"apply with: kubectl apply -f {out} (after creating the Secret {secret!r} with "
        "tracking-uri and tracking-token)",
        highlight=False,
    )
