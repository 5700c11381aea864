"""The model card's document model (sections of paragraphs, fields and tables) and its renderers.

The card is built once as plain blocks and rendered to Markdown and to self-contained HTML, so
both always say the same thing. Every piece of user text is escaped for its format.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Running text; `is_note` marks a placeholder or hint (rendered in italics)."""

    text: str
    is_note: bool = False


@dataclass(frozen=True, slots=True)
class Fields:
    """Label/value pairs."""

    rows: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Grid:
    """A table with a header row."""

    header: list[str]
    rows: list[list[str]]


Block = Paragraph | Fields | Grid


@dataclass(slots=True)
class Section:
    """A titled section; `level` 2 for the Annex IV headings, 3 for their parts."""

    title: str
    level: int = 2
    blocks: list[Block] = field(default_factory=list)


@dataclass(slots=True)
class CardDocument:
    """A whole card: title, preamble and sections."""

    title: str
    preamble: list[Block]
    sections: list[Section]


def _md_cell(text: str) -> str:
    escaped = html.escape(text, quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return escaped.replace("\n", "<br>") or "-"


def _md_text(text: str) -> str:
    # Keep user text from turning into headings, lists or HTML.
    escaped = html.escape(text, quote=False)
    return "\n".join(
        "\\" + line if line[:1] in "#>-+*=" or line[:2].rstrip(".").isdigit() else line
        for line in escaped.splitlines()
    )


def _md_title(text: str) -> str:
    # After the `#` marks a line is a heading whatever it starts with; only keep it one line.
    return html.escape(" ".join(text.split()), quote=False)


def _md_block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"_{_md_text(block.text)}_" if block.is_note else _md_text(block.text)
    if isinstance(block, Fields):
        lines = ["| | |", "|---|---|"]
        lines += [f"| **{_md_cell(k)}** | {_md_cell(v)} |" for k, v in block.rows]
        return "\n".join(lines)
    lines = [
        "| " + " | ".join(_md_cell(h) for h in block.header) + " |",
        "|" + "---|" * len(block.header),
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
    return "\n".join(lines)


def to_markdown(card: CardDocument) -> str:
    """The card as GitHub-flavoured Markdown."""
    parts = [f"# {_md_title(card.title)}"]
    parts += [_md_block(b) for b in card.preamble]
    for section in card.sections:
        parts.append(f"{'#' * section.level} {_md_title(section.title)}")
        parts += [_md_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}.note{color:#666;font-style:italic}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}code{font-size:.9em}
"""


def _html_block(block: Block) -> str:
    esc = html.escape
    if isinstance(block, Paragraph):
        css = ' class="note"' if block.is_note else ""
        return f"<p{css}>{esc(block.text)}</p>"
    if isinstance(block, Fields):
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in block.rows)
        return f"<table>{rows}</table>"
    head = "".join(f"<th>{esc(h)}</th>" for h in block.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in block.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(card: CardDocument) -> str:
    """The card as one self-contained HTML page (inline style, no scripts)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(card.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(card.title)}</h1>",
    ]
    parts += [_html_block(b) for b in card.preamble]
    for section in card.sections:
        level = min(max(section.level, 2), 4)
        parts.append(f"<h{level}>{esc(section.title)}</h{level}>")
        parts += [_html_block(b) for b in section.blocks]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
