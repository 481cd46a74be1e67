"""Section 2: students' audio/video quality over the day and the worst rooms."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    MUTED,
    create_figure,
    render_chart,
    set_hour_axis,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import (
    format_count,
    format_number,
    format_share,
    note_no_data,
)
from classpulse.report.model import (
    BAD_AUDIO_LOST,
    BAD_VIDEO_FR,
    WORST_ROOMS,
    Chart,
    Section,
    SectionParts,
    TableView,
)

if TYPE_CHECKING:
    import pandas as pd


AV_CURVE_MART = "ads.student_av_quality_curve_30s"
"""The AV curve over the day (dbt model: one row per 30 s window, all rooms together)."""


LEAD = (
    "Students' agora readings per 30-second window (business time): mean packets lost "
    "per audio reading and mean video frame rate, with a 5-minute rolling mean. Dashed "
    "lines are the thresholds a reading counts as bad."
)


def build_av_quality_section(reader: MartReader, day: date) -> Section:
    """Student audio loss and video frame rate per 30 s window; the worst rooms of the day."""
    parts = SectionParts()
    windows = reader.frame_of(
        AV_CURVE_MART,
        "SELECT second_of_day, audio_lost_avg AS audio_lost, video_fr_avg AS video_fr, "
        "students FROM ads.student_av_quality_curve_30s WHERE event_date = {day:Date} "
        "ORDER BY second_of_day",
        day=day,
    )
    if windows.empty:
        parts.notes.append(note_no_data(AV_CURVE_MART, day))
    else:
        parts.charts.append(plot_av_quality(windows, day))
    rooms = reader.frame_of(
        "ads.classroom_quality_daily",
        "SELECT room_id, teacher_id, students, events_per_student, audio_lost_avg, "
        "video_fr_avg, bad_audio_share, bad_video_share, quality_band "
        "FROM ads.classroom_quality_daily WHERE event_date = {day:Date} "
        "ORDER BY greatest(bad_audio_share, bad_video_share) DESC, audio_lost_avg DESC, "
        "room_id LIMIT {limit:UInt32}",
        day=day,
        limit=WORST_ROOMS,
    )
    if rooms.empty:
        parts.notes.append(note_no_data("ads.classroom_quality_daily", day))
    else:
        band_status = {"poor": "bad", "fair": "warn", "good": "ok", "no_av_data": "muted"}
        parts.tables.append(
            TableView(
                caption=f"Worst rooms on {day.isoformat()} (highest share of bad readings first)",
                columns=(
                    "room",
                    "teacher",
                    "students",
                    "events / student",
                    "audio lost avg",
                    "video fps avg",
                    f"bad audio (lost ≥ {BAD_AUDIO_LOST})",
                    f"bad video (fps < {BAD_VIDEO_FR})",
                    "band",
                ),
                rows=tuple(
                    (
                        str(row.room_id),
                        "–" if row.teacher_id in (-1, None) else str(row.teacher_id),
                        format_count(row.students),
                        format_number(row.events_per_student, 1),
                        format_number(row.audio_lost_avg),
                        format_number(row.video_fr_avg, 1),
                        format_share(row.bad_audio_share),
                        format_share(row.bad_video_share),
                        str(row.quality_band),
                    )
                    for row in rooms.itertuples()
                ),
                statuses=tuple(band_status.get(str(band), "") for band in rooms.quality_band),
                numeric=(False, False, True, True, True, True, True, True, False),
            )
        )
    return parts.numbered_section("av-quality", LEAD)


@with_chart_style
def plot_av_quality(windows: pd.DataFrame, day: date) -> Chart:
    """Three stacked panels over the day: students reporting, audio loss, video frame rate."""
    import numpy as np
    import pandas as pd

    first, last = int(windows.second_of_day.min()), int(windows.second_of_day.max())
    grid = pd.DataFrame({"second_of_day": np.arange(first, last + 30, 30)})
    # a full 30 s grid, so the lines break where no student reported
    series = grid.merge(windows, on="second_of_day", how="left")
    hours = series.second_of_day / 3600
    figure = create_figure(5.6)
    layout = figure.add_gridspec(3, 1, height_ratios=(1, 2, 2))
    students = figure.add_subplot(layout[0])
    audio = figure.add_subplot(layout[1], sharex=students)
    video = figure.add_subplot(layout[2], sharex=students)
    students.fill_between(hours, series.students.fillna(0), step="post", color="#cbd5e1")
    students.set_ylabel("students")
    students.set_title(f"Student audio/video quality per 30 s window, {day.isoformat()}")
    for axes, column, color, label, threshold, unit in (
        (audio, "audio_lost", "#e15759", "audio packets lost / reading", BAD_AUDIO_LOST, "lost"),
        (video, "video_fr", "#4e79a7", "video frames / s", BAD_VIDEO_FR, "fps"),
    ):
        values = series[column].astype(float)
        rolling = values.rolling(10, center=True, min_periods=3).mean()
        axes.plot(hours, values, color=color, alpha=0.35, linewidth=0.7, label="30 s window")
        axes.plot(hours, rolling, color=color, linewidth=1.6, label="5 min rolling mean")
        axes.axhline(threshold, color=MUTED, linestyle="--", linewidth=0.9)
        axes.annotate(
            f"bad: {unit} {'≥' if column == 'audio_lost' else '<'} {threshold}",
            xy=(1.0, threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=7,
            color=MUTED,
        )
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", ncols=2)
    audio.set_ylim(0, max(BAD_AUDIO_LOST * 1.25, float(np.nanmax(series.audio_lost.astype(float)))))
    video.set_ylim(
        0, max(BAD_VIDEO_FR * 1.5, float(np.nanmax(series.video_fr.astype(float))) * 1.15)
    )
    for axes in (students, audio):
        axes.tick_params(labelbottom=False)
    set_hour_axis(video, float(hours.min()), float(hours.max()))
    video.set_xlabel("business time")
    return render_chart(figure, "Student audio loss and video frame rate per 30 s window")
