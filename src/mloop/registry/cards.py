"""Model cards: one version's documentation, laid out after Annex IV of the EU AI Act.

Annex IV of Regulation (EU) 2024/1689 lists what the technical documentation of a high-risk AI
system must hold. The card fills what the registry knows (identity, lineage data -> run ->
version, training setup, metrics, signature, the newest validation report of the gates,
approvals, change history) and names what only the provider can write (intended purpose,
limitations, risks, oversight, monitoring plan). Those come from tags `card.<field>` on the
model, overridden per version; the card says which tag to set for each one still missing.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from mloop.__about__ import __version__
from mloop.entities import AuditEvent, ModelVersion, RegisteredModel, Run
from mloop.errors import BlobNotFoundError, ConfigurationError, RunNotFoundError
from mloop.registry.card_render import Block, CardDocument, Fields, Grid, Paragraph, Section
from mloop.registry.references import ModelReference, resolve
from mloop.storage.protocols import Store

CARD_TAG_PREFIX = "card."
# (field, title): the provider-written parts of the card, set as tags `card.<field>`.
PURPOSE_FIELDS = (
    ("provider", "Provider"),
    ("intended_purpose", "Intended purpose"),
    ("intended_users", "Intended users and deployers"),
    ("out_of_scope", "Out-of-scope and prohibited uses"),
)
CONTROL_FIELDS = (
    ("limitations", "Capabilities and known limitations"),
    ("risks", "Foreseeable unintended outcomes and risks"),
    ("human_oversight", "Human oversight measures"),
)
METRICS_FIELD = ("metrics_rationale", "Why these metrics are appropriate")
MONITORING_FIELD = ("monitoring_plan", "Post-market monitoring plan")
NO_VALIDATION = (
    "No validation results are recorded for this version yet. Once validation gates run "
    "(metric thresholds, beat-the-champion, fairness, drift, schema), their results appear here."
)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _field(model: RegisteredModel, version: ModelVersion, name: str, title: str) -> list[Section]:
    key = CARD_TAG_PREFIX + name
    text = version.tags.get(key) or model.tags.get(key)
    if text:
        return [Section(title, 3, [Paragraph(text)])]
    hint = (
        f"Not documented yet: set the tag `{key}` on the model (or on this version), e.g. "
        f'`mloop models card {version.name}/{version.version} --set {name}="..."`.'
    )
    return [Section(title, 3, [Paragraph(hint, is_note=True)])]


def _number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def _general(model: RegisteredModel, version: ModelVersion) -> list[Section]:
    identity = Fields(
        [
            ("Model", model.name),
            ("Version", f"{version.version} ({version.uri})"),
            ("Aliases", ", ".join(version.aliases) or "none"),
            ("Registered", f"{_when(version.created_at_ms)} by {version.user_id or 'unknown'}"),
            ("Model description", model.description or "-"),
            ("Version description", version.description or "-"),
            ("Package source", version.source),
            ("Package digest", version.package_digest or "not recorded"),
        ]
    )
    sections = [Section("1. General description of the AI system", 2, [identity])]
    for name, title in PURPOSE_FIELDS:
        sections += _field(model, version, name, title)
    return sections


def _lineage(version: ModelVersion, run: Run | None) -> Section:
    section = Section("2.1 Lineage: data → run → version", 3)
    if version.run_id is None:
        section.blocks.append(
            Paragraph(
                "This version was registered from a source outside any run; its training data "
                "is not recorded.",
                is_note=True,
            )
        )
        return section
    run_name = run.run_name if run is not None else "(run not found in this store)"
    section.blocks.append(
        Fields(
            [
                ("Training run", f"{run_name} ({version.run_id})"),
                ("Experiment", run.experiment_id if run is not None else "-"),
                ("Run status", run.status.value if run is not None else "-"),
                ("Run user", run.user_id if run is not None and run.user_id else "-"),
            ]
        )
    )
    if version.datasets:
        section.blocks.append(
            Grid(
                ["dataset", "digest", "role", "source"],
                [[d.name, d.digest, d.context or "-", d.source or "-"] for d in version.datasets],
            )
        )
    else:
        section.blocks.append(
            Paragraph("The run recorded no datasets (log them with log_input).", is_note=True)
        )
    return section


def _signature(version: ModelVersion) -> Section:
    section = Section("2.3 Input and output specification (signature)", 3)
    signature = version.signature
    if not signature:
        section.blocks.append(Paragraph("No signature was recorded.", is_note=True))
        return section
    method = str(signature.get("method", "-"))
    section.blocks.append(Fields([("Method served", method)]))
    for part in ("inputs", "outputs"):
        columns = signature.get(part) or []
        rows = [
            [str(c.get("name", "")), str(c.get("type", ""))] for c in columns if isinstance(c, dict)
        ]
        if rows:
            section.blocks.append(Grid([f"{part[:-1]} column", "type"], rows))
    return section


def _development(version: ModelVersion, run: Run | None) -> list[Section]:
    sections = [
        Section("2. Elements of the AI system and the process of its development", 2),
        _lineage(version, run),
    ]
    params = Section("2.2 Training configuration", 3)
    if run is not None and run.params:
        params.blocks.append(
            Grid(["param", "value"], [[k, run.params[k]] for k in sorted(run.params)])
        )
    else:
        params.blocks.append(Paragraph("No training params were recorded.", is_note=True))
    sections += [params, _signature(version)]
    return sections


def _performance(model: RegisteredModel, version: ModelVersion, run: Run | None) -> list[Section]:
    metrics = Section("3.1 Measured performance (training run metrics)", 3)
    logged = run.metrics if run is not None else {}
    shown = {k: v for k, v in logged.items() if not k.startswith("system/")}
    if shown:
        metrics.blocks.append(
            Grid(["metric", "value"], [[k, _number(shown[k])] for k in sorted(shown)])
        )
    else:
        metrics.blocks.append(Paragraph("The training run recorded no metrics.", is_note=True))
    sections = [Section("3. Monitoring, functioning and control", 2), metrics]
    for name, title in CONTROL_FIELDS:
        sections += _field(model, version, name, title)
    sections.append(Section("4. Appropriateness of the performance metrics", 2))
    sections += _field(model, version, *METRICS_FIELD)
    return sections


def _validation(store: Store, version: ModelVersion) -> Section:
    """The newest validation report of the version: verdict, data, and each gate's numbers."""
    section = Section("5. Validation and testing results", 2)
    try:
        found = store.validation_reports.list(version.name, version.version)
    except ConfigurationError:  # a store that does not serve reports (REST, for now)
        found = []
    if not found:
        section.blocks.append(Paragraph(NO_VALIDATION, True))
        return section
    latest = found[0]
    verdict = "every gate passed" if latest.passed else "NOT every gate passed"
    section.blocks.append(
        Fields(
            [
                ("Verdict", verdict),
                ("Holdout data", latest.holdout),
                ("Validated", f"{_when(latest.created_at_ms)} by {latest.actor}"),
                ("Policy digest", latest.policy_digest),
                ("Report", f"JSON blob {latest.report_digest}, HTML blob {latest.html_digest}"),
                ("Validations recorded", str(len(found))),
            ]
        )
    )
    summaries = _gate_summaries(store, latest.report_digest)
    section.blocks.append(
        Grid(
            ["gate", "status", "numbers"],
            [[gate, status, summaries.get(gate, "-")] for gate, status in latest.gates.items()],
        )
    )
    return section


def _gate_summaries(store: Store, digest: str) -> dict[str, str]:
    """Gate name -> its one-line numbers, from the stored JSON report ({} if it is gone)."""
    try:
        report = json.loads(store.artifacts.blobs.read_bytes(digest))
    except (BlobNotFoundError, ValueError):
        return {}
    return {str(g["gate"]): str(g["summary"]) for g in report.get("gates", [])}


def _governance(
    model: RegisteredModel, version: ModelVersion, history: list[AuditEvent], validation: Section
) -> list[Section]:
    approvals = Section("6.1 Approvals", 3)
    if version.approvals:
        approvals.blocks.append(
            Grid(
                ["approved by", "when", "comment"],
                [[a.actor, _when(a.at_ms), a.comment or "-"] for a in version.approvals],
            )
        )
    else:
        approvals.blocks.append(
            Paragraph(
                "Not approved yet: `mloop models approve "
                f'{version.name}/{version.version} --comment "..."` records an approval.',
                is_note=True,
            )
        )
    if model.protected_aliases:
        approvals.blocks.append(
            Paragraph(
                "Protected aliases (only approved versions may hold them): "
                + ", ".join(model.protected_aliases)
            )
        )
    changes = Section("6.2 Changes over the lifecycle (from the audit log)", 3)
    changes.blocks.append(
        Grid(
            ["#", "when", "who", "action", "details"],
            [[str(e.seq), _when(e.at_ms), e.actor, e.action, _details(e)] for e in history],
        )
    )
    monitoring = [Section("7. Post-market monitoring", 2)]
    monitoring += _field(model, version, *MONITORING_FIELD)
    return [validation, Section("6. Approvals and changes", 2), approvals, changes, *monitoring]


def _details(event: AuditEvent) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(event.details.items())) or "-"


def _history(store: Store, version: ModelVersion) -> list[AuditEvent]:
    """Events about this version, and alias moves of its model onto or off it."""
    own = store.audit.list(entity=("model_version", f"{version.name}/{version.version}"))
    model_events = store.audit.list(entity=("model", version.name))
    about = [
        e
        for e in model_events
        if e.action.startswith("model.alias.")
        and version.version in (e.details.get("version"), e.details.get("previous"))
    ]
    return sorted(own + about, key=lambda e: e.seq)


def build_card(store: Store, reference: str | ModelReference) -> CardDocument:
    """Assemble the model card of one version from the registry, its run and the audit log.

    Args:
        store: the metadata store.
        reference: `models:/NAME/VERSION`, `@ALIAS` or `/latest`, or a parsed reference.

    Returns:
        The card, ready for `to_markdown` / `to_html` (`mloop.registry.card_render`).

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: nothing matches.
        InvalidModelReferenceError: the reference is malformed.
    """
    version = resolve(store.registry, reference)
    model = store.registry.get_model(version.name)
    run: Run | None = None
    if version.run_id is not None:
        try:
            run = store.runs.get(version.run_id)
        except RunNotFoundError:
            run = None
    preamble: list[Block] = [
        Paragraph(
            "Technical documentation of a machine-learning model, structured after Annex IV of "
            "the EU AI Act (Regulation (EU) 2024/1689). Generated by mloop "
            f"{__version__} on {_when(int(datetime.now(tz=UTC).timestamp() * 1000))} from the "
            "model registry; sections marked as not documented need the provider's input."
        )
    ]
    sections = [
        *_general(model, version),
        *_development(version, run),
        *_performance(model, version, run),
        *_governance(model, version, _history(store, version), _validation(store, version)),
    ]
    return CardDocument(f"Model card: {model.name} version {version.version}", preamble, sections)
