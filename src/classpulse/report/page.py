"""The HTML page: the template and stylesheet (package files) filled with the sections."""

from __future__ import annotations

import functools
import html
import string
from importlib.resources import files

from classpulse.report.model import Card, Report, Section, TableView

TEMPLATE_FILE = "page.html"
STYLESHEET_FILE = "report.css"


def render_html(report: Report, seconds: float | None = None) -> str:
    """The whole page: inline CSS, figures as data URIs, nothing fetched from anywhere."""
    escape = html.escape
    nav = "".join(
        f'<a href="#{escape(section.key)}">{escape(section.title)}</a>'
        for section in report.sections
    )
    return read_template().substitute(
        day=report.day.isoformat(),
        style=read_stylesheet(),
        generated_at=escape(report.generated_at),
        took=f" in {seconds:.1f} s" if seconds is not None else "",
        server=escape(report.server),
        nav=nav,
        body="\n".join(render_section(section) for section in report.sections),
    )


@functools.cache
def read_template() -> string.Template:
    """page.html, a package file: the page around the sections (``$name`` placeholders)."""
    return string.Template(files(__package__).joinpath(TEMPLATE_FILE).read_text(encoding="utf-8"))


@functools.cache
def read_stylesheet() -> str:
    """report.css, a package file, inlined into the page's ``<style>``."""
    return files(__package__).joinpath(STYLESHEET_FILE).read_text(encoding="utf-8")


def render_section(section: Section) -> str:
    escape = html.escape
    parts = [
        f'<section id="{escape(section.key)}">',
        f"<h2>{escape(section.title)}</h2>",
    ]
    if section.lead:
        parts.append(f'<p class="lead">{escape(section.lead)}</p>')
    if section.error:
        parts.append(
            f'<div class="error">This section could not be rendered: {escape(section.error)}</div>'
        )
    if section.notes:
        parts.append('<ul class="notes">')
        for note in section.notes:
            kind = ' class="no-data"' if note.startswith("no data") else ""
            parts.append(f"<li{kind}>{escape(note)}</li>")
        parts.append("</ul>")
    if section.cards:
        parts.append('<div class="cards">')
        parts.extend(render_card(card) for card in section.cards)
        parts.append("</div>")
    for chart in section.charts:
        parts.append(f'<figure><img src="{chart.data_uri}" alt="{escape(chart.title)}"></figure>')
    parts.extend(render_table(table) for table in section.tables)
    parts.append("</section>")
    return "\n".join(parts)


def render_card(card: Card) -> str:
    escape = html.escape
    raw = "" if card.raw is None else f' data-value="{escape(str(card.raw))}"'
    status = f" {escape(card.status)}" if card.status else ""
    detail = f'<div class="detail">{escape(card.detail)}</div>' if card.detail else ""
    return (
        f'<div class="card{status}" data-metric="{escape(card.key)}"{raw}>'
        f'<div class="label">{escape(card.label)}</div>'
        f'<div class="value">{escape(card.value)}</div>{detail}</div>'
    )


def render_table(table: TableView) -> str:
    escape = html.escape
    numeric = table.numeric or (False,) * len(table.columns)

    def cell(tag: str, value: str, is_numeric: bool) -> str:
        css = ' class="num"' if is_numeric else ""
        return f"<{tag}{css}>{escape(value)}</{tag}>"

    head = "".join(
        cell("th", name, flag) for name, flag in zip(table.columns, numeric, strict=True)
    )
    rows = []
    for index, row in enumerate(table.rows):
        status = table.statuses[index] if index < len(table.statuses) else ""
        css = f' class="{escape(status)}"' if status else ""
        cells = "".join(cell("td", value, flag) for value, flag in zip(row, numeric, strict=True))
        rows.append(f"<tr{css}>{cells}</tr>")
    markup = (
        '<div class="table-wrap"><table>'
        f"<caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    if table.collapsed:
        return f"<details><summary>{escape(table.caption)}</summary>{markup}</details>"
    return markup
