"""The daily report: one self-contained HTML page over the marts, for analysts.

``classpulse report`` (and the demo and Airflow, through :func:`write_report`) reads the
configured ClickHouse and writes a page an analyst would rather look at than read. The
report computes nothing an analyst could not query: every number is selected from a mart
in ``ads`` (or a landing/accounting table for the data-quality section), and the analytics
the page needs beyond the contract marts are dbt models of their own
(dbt_project/models/ads/report_marts.yml).

Layout of the package, one module per seam:

- :mod:`~classpulse.report.model`: the page model (sections, tables, cards, charts) and
  the report's settings (section titles, how many days and rows to show);
- :mod:`~classpulse.report.data`: warehouse access (bound parameters, the table catalog);
- :mod:`~classpulse.report.formatting` and :mod:`~classpulse.report.charts`: how numbers
  read and how figures look (matplotlib ``Figure`` objects, no pyplot state, inlined as PNG);
- one module per section: :mod:`~classpulse.report.headline`,
  :mod:`~classpulse.report.av_quality`, :mod:`~classpulse.report.engagement`,
  :mod:`~classpulse.report.registrations`, :mod:`~classpulse.report.consultants`,
  :mod:`~classpulse.report.data_quality`, :mod:`~classpulse.report.freshness`,
  :mod:`~classpulse.report.help_triage` and :mod:`~classpulse.report.rooms`;
- :mod:`~classpulse.report.page`: ``page.html`` and ``report.css`` (package files) filled
  with the rendered sections;
- :mod:`~classpulse.report.assemble`: every section built safely (a failing query shows
  its error in its own section, the rest still renders) and the page written atomically.

Every value reaches SQL as a server-side parameter (``{day:Date}``); only identifiers taken
from constants or the server's catalog are written into SQL text. A section whose tables
are missing or empty says "no data for …".
"""

from __future__ import annotations

from classpulse.report.assemble import collect_report, write_report
from classpulse.report.data import MartReader, connect, find_latest_data_day
from classpulse.report.formatting import format_age, format_count, format_number, format_share
from classpulse.report.model import (
    DEFAULT_REPORT_PATH,
    SECTION_TITLES,
    Report,
    ReportError,
    Section,
)
from classpulse.report.page import render_html

__all__ = [
    "DEFAULT_REPORT_PATH",
    "SECTION_TITLES",
    "MartReader",
    "Report",
    "ReportError",
    "Section",
    "collect_report",
    "connect",
    "find_latest_data_day",
    "format_age",
    "format_count",
    "format_number",
    "format_share",
    "render_html",
    "write_report",
]
