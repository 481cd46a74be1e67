"""The rooms section: presence and concurrency of the busiest rooms, timeouts, message loss.

Shown before data quality when the warehouse holds room data (issue 12), from the offline marts
of LIVE_CLASSROOM_CONTRACT.md B.3 (ads.room_concurrency_1min, room_presence_sessions,
room_message_loss_daily). Built like the other sections of :mod:`classpulse.report`: bound
parameters, a note instead of a figure when the day has no rows.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from classpulse.report.charts import create_figure, render_chart, set_hour_axis, with_chart_style
from classpulse.report.data import MartReader
from classpulse.report.formatting import format_count, format_share, note_no_data
from classpulse.report.model import Card, Chart, Section, SectionParts, TableView

if TYPE_CHECKING:
    import pandas as pd

SECTION_KEY = "rooms"
SECTION_TITLE = "Room presence and message loss"
LEAD = (
    "Who was in which room (a user is online while any of its terminals beats within "
    "the time-out T), per room and minute, with sessions ending by a time-out and the "
    "pushed messages clients reported missing: gaps were re-pulled, losses were still "
    "missing at the last report. Offline marts, late heartbeats included."
)
BUSIEST_ROOMS = 5
ROOM_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2")
MARTS = ("ads.room_concurrency_1min", "ads.room_presence_sessions", "ads.room_message_loss_daily")


def has_room_data(reader: MartReader) -> bool:
    """True when the room marts exist and hold a row (the section is shown only then)."""
    if not reader.has(*MARTS):
        return False
    return bool(reader.scalar("SELECT count() > 0 FROM ads.room_presence_sessions"))


def build_rooms_section(reader: MartReader, day: date) -> Section:
    parts = SectionParts()
    busiest = reader.frame(
        "SELECT bid, room_id, max(peak_online) AS peak, count() AS minutes, "
        "sum(sessions_started) AS sessions, sum(timeouts) AS timeouts "
        "FROM ads.room_concurrency_1min WHERE toDate(start_time) = {day:Date} "
        "GROUP BY bid, room_id ORDER BY peak DESC, sessions DESC, bid, room_id "
        "LIMIT {limit:UInt32}",
        day=day,
        limit=BUSIEST_ROOMS,
    )
    minutes = reader.frame(
        "SELECT bid, room_id, dateDiff('second', toStartOfDay(start_time), start_time) / 3600 "
        "AS hour, users_present, peak_online FROM ads.room_concurrency_1min "
        "WHERE toDate(start_time) = {day:Date} AND (bid, room_id) IN ("
        "  SELECT bid, room_id FROM ads.room_concurrency_1min WHERE toDate(start_time) = {day:Date}"
        "  GROUP BY bid, room_id ORDER BY max(peak_online) DESC, sum(sessions_started) DESC, "
        "  bid, room_id LIMIT {limit:UInt32}) ORDER BY bid, room_id, hour",
        day=day,
        limit=BUSIEST_ROOMS,
    )
    timeouts = reader.frame(
        "SELECT toHour(online_to) AS hour, countIf(end_reason = 'timeout') AS timeouts, "
        "countIf(end_reason = 'leave') AS leaves FROM ads.room_presence_sessions "
        "WHERE toDate(online_to) = {day:Date} GROUP BY hour ORDER BY hour",
        day=day,
    )
    loss = reader.frame(
        "SELECT terminal, sum(reports) AS reports, sum(max_msgid) AS pushed, "
        "sum(gap_msgids) AS gaps, sum(lost_msgids) AS lost, "
        "if(pushed = 0, 0, gaps / pushed) AS gap_rate, if(pushed = 0, 0, lost / pushed) AS loss_rate "
        "FROM ads.room_message_loss_daily WHERE day = {day:Date} "
        "GROUP BY terminal ORDER BY loss_rate DESC, terminal",
        day=day,
    )
    if busiest.empty:
        parts.notes.append(note_no_data("ads.room_concurrency_1min", day))
    else:
        parts.charts.append(plot_concurrency(minutes, busiest, day))
        parts.tables.append(
            TableView(
                caption=f"Busiest rooms on {day.isoformat()} (highest peak online first)",
                columns=(
                    "bid",
                    "room",
                    "peak online",
                    "minutes with users",
                    "sessions",
                    "timeouts",
                ),
                rows=tuple(
                    (
                        str(row.bid),
                        str(row.room_id),
                        format_count(row.peak),
                        format_count(row.minutes),
                        format_count(row.sessions),
                        format_count(row.timeouts),
                    )
                    for row in busiest.itertuples()
                ),
                numeric=(False, False, True, True, True, True),
            )
        )
        parts.cards.append(
            Card(
                "rooms_peak_online",
                "peak online in one room",
                format_count(busiest.peak.max()),
                int(busiest.peak.max()),
            )
        )
    if timeouts.empty and loss.empty:
        parts.notes.append(note_no_data("ads.room_presence_sessions", day))
    else:
        parts.charts.append(plot_timeouts_and_loss(timeouts, loss, day))
        total_timeouts = int(timeouts.timeouts.sum()) if not timeouts.empty else 0
        parts.cards.append(
            Card(
                "rooms_timeouts",
                "sessions ended by a timeout",
                format_count(total_timeouts),
                total_timeouts,
            )
        )
    if not loss.empty:
        parts.tables.append(
            TableView(
                caption="Pushed-message gaps (re-pulled) and losses (still missing) by terminal",
                columns=(
                    "terminal",
                    "reports",
                    "msgids pushed",
                    "gaps",
                    "lost",
                    "gap rate",
                    "loss rate",
                ),
                rows=tuple(
                    (
                        str(row.terminal),
                        format_count(row.reports),
                        format_count(row.pushed),
                        format_count(row.gaps),
                        format_count(row.lost),
                        format_share(row.gap_rate),
                        format_share(row.loss_rate),
                    )
                    for row in loss.itertuples()
                ),
                numeric=(False, True, True, True, True, True, True),
            )
        )
    return parts.section(SECTION_KEY, SECTION_TITLE, LEAD)


@with_chart_style
def plot_concurrency(minutes: pd.DataFrame, busiest: pd.DataFrame, day: date) -> Chart:
    """Peak online per minute over the day, one line per busiest room."""
    figure = create_figure(3.6)
    axes = figure.add_subplot()
    for index, room in enumerate(busiest.itertuples()):
        rows = minutes[(minutes.bid == room.bid) & (minutes.room_id == room.room_id)]
        axes.step(
            rows.hour,
            rows.peak_online,
            where="post",
            color=ROOM_COLORS[index % len(ROOM_COLORS)],
            linewidth=1.2,
            label=f"room {room.room_id} (bid {room.bid})",
        )
    axes.set_ylabel("peak online per minute")
    axes.set_ylim(bottom=0)
    axes.set_title(f"Concurrency of the busiest rooms, {day.isoformat()}")
    axes.legend(loc="upper left", fontsize=7)
    set_hour_axis(axes, float(minutes.hour.min()), float(minutes.hour.max()))
    axes.set_xlabel("business time")
    return render_chart(figure, "Peak online per minute, busiest rooms")


@with_chart_style
def plot_timeouts_and_loss(timeouts: pd.DataFrame, loss: pd.DataFrame, day: date) -> Chart:
    """Left: sessions ended per hour by time-out and by leave. Right: loss rate by terminal."""
    figure = create_figure(3.4)
    left, right = figure.subplots(1, 2, width_ratios=(2, 1))
    if not timeouts.empty:
        left.bar(timeouts.hour, timeouts.leaves, color="#cbd5e1", label="leave")
        left.bar(
            timeouts.hour,
            timeouts.timeouts,
            bottom=timeouts.leaves,
            color="#e15759",
            label="timeout",
        )
        left.legend(loc="upper left", fontsize=7)
        set_hour_axis(left, float(timeouts.hour.min()), float(timeouts.hour.max()) + 1)
    left.set_ylabel("sessions ended")
    left.set_title(f"Session ends per hour, {day.isoformat()}")
    if not loss.empty:
        positions = range(len(loss))
        right.bar(positions, loss.gap_rate * 100, color="#f2cf5b", label="gap rate")
        right.bar(positions, loss.loss_rate * 100, color="#e15759", label="loss rate")
        right.set_xticks(list(positions), [str(terminal) for terminal in loss.terminal])
        right.legend(loc="upper right", fontsize=7)
    right.set_ylabel("% of msgids pushed")
    right.set_title("Message gaps and losses by terminal")
    return render_chart(figure, "Session ends per hour and message loss by terminal")
