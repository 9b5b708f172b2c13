"""The report's chart (PNG): attendance per rencontre and participants over the year."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no screen: render to memory only

import matplotlib.pyplot as plt

from commands.i18n import Translator
from commands.reports.figures import Figures


def chart_png(figures: Figures, t: Translator, tz_name: str) -> bytes:
    """Two panels: attendance at each rencontre held, cumulative participants month by month."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), dpi=100)
    try:
        held = [m for m in figures.meetings if m.status == "tenue"]
        labels = [f"n°{m.id}\n{m.starts_at.astimezone(tz):%d/%m}" for m in held]
        top.bar(range(len(held)), [m.attendance for m in held], color="#2e7d32")
        top.set_xticks(range(len(held)), labels, fontsize=8)
        top.set_title(t("report.chart_attendance", year=figures.year))
        top.set_ylabel(t("report.chart_people"))
        months = list(range(1, 13))
        bottom.plot(months, list(figures.cumulative) or [0] * 12, marker="o", color="#1565c0")
        bottom.set_xticks(months)
        bottom.set_title(t("report.chart_participants", year=figures.year))
        bottom.set_xlabel(t("report.chart_month"))
        bottom.set_ylabel(t("report.chart_people"))
        bottom.set_ylim(bottom=0)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
