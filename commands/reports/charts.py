"""The report's charts as PNG images (matplotlib, drawn in memory): one per ``document.Chart``.

Bars side by side (``bar``), lines (``line``) or bars stacked (``stacked``) over the chart's
labels, one colour per series (a palette told apart by colour-blind readers), a legend when there
is more than one series, the values written on the bars when they are few, numbers in French.
"""

from __future__ import annotations

import io
import math
import textwrap
import warnings
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no screen: render to memory only

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from commands.reports.document import Chart
from commands.reports.writing import clean, number_text

# Okabe & Ito's palette, readable with every common colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 4.5, 150
EMPTY_INK = "#888888"
_MAX_LABELLED_BARS = 24
_MAX_TICKS = 16  # labels written on the x axis, at most  # above this, the values are read from the axis only


def _values(values: Sequence[float], count: int) -> list[float]:
    """The series' values fitted to the labels: missing or non-finite ones are drawn as 0."""
    fitted = [
        float(v) if isinstance(v, int | float) and math.isfinite(v) else 0.0 for v in list(values)[:count]
    ]
    return fitted + [0.0] * (count - len(fitted))


def _tick_labels(labels: Sequence[str]) -> tuple[list[str], int]:
    """The x axis' labels and their angle: a few labels wrapped on lines, many of them shortened
    and turned; past ``_MAX_TICKS``, one label in two (three…) is written."""
    texts = [" ".join(clean(label).split()) for label in labels]
    if len(texts) <= 8:
        width = 14 if len(texts) <= 6 else 10
        return [textwrap.fill(textwrap.shorten(t, 40, placeholder="…"), width) for t in texts], 0
    step = math.ceil(len(texts) / _MAX_TICKS)
    shown = [textwrap.shorten(t, 24, placeholder="…") if i % step == 0 else "" for i, t in enumerate(texts)]
    return shown, 35


def _values_text(values: Sequence[float], language: str) -> list[str]:
    return [number_text(value, language) for value in values]


def _draw(axes: Axes, chart: Chart, language: str) -> None:
    """The series over the labels: lines, bars side by side, or bars stacked with their total."""
    count, series = len(chart.labels), chart.series
    positions = list(range(count))
    labelled = count * max(1, len(series)) <= _MAX_LABELLED_BARS
    bottoms = [0.0] * count
    width = 0.6 if chart.kind == "stacked" else 0.8 / max(1, len(series))
    for index, one in enumerate(series):
        values = _values(one.values, count)
        colour, label = PALETTE[index % len(PALETTE)], clean(one.label)
        if chart.kind == "line":
            axes.plot(positions, values, marker="o", linewidth=2, color=colour, label=label)
        elif chart.kind == "stacked":
            axes.bar(positions, values, width, bottom=bottoms, color=colour, label=label)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        else:
            offset = (index - (len(series) - 1) / 2) * width
            bars = axes.bar([x + offset for x in positions], values, width, color=colour, label=label)
            if labelled:
                axes.bar_label(bars, labels=_values_text(values, language), fontsize=8, padding=2)
    if chart.kind == "stacked" and labelled:
        totals = axes.bar(positions, bottoms, width, fill=False, linewidth=0)
        axes.bar_label(totals, labels=_values_text(bottoms, language), fontsize=8, padding=2)


def _legend(axes: Axes, chart: Chart) -> None:
    """Beside the plot, never over it; a stack's series listed as stacked, the top one first."""
    handles, names = axes.get_legend_handles_labels()
    if chart.kind == "stacked":
        handles, names = handles[::-1], names[::-1]
    wrapped = [textwrap.fill(name, 24) for name in names]
    axes.legend(handles, wrapped, fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))


def _axes(axes: Axes, chart: Chart, language: str) -> None:
    labels, rotation = _tick_labels(chart.labels)
    axes.set_xticks(
        range(len(labels)),
        labels,
        rotation=rotation,
        ha="right" if rotation else "center",
        rotation_mode="anchor",
    )
    axes.tick_params(axis="x", labelsize=9)
    values = [value for one in chart.series for value in _values(one.values, len(labels))]
    axes.yaxis.set_major_locator(MaxNLocator(integer=all(value == int(value) for value in values)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: number_text(value, language)))
    if min(values, default=0) >= 0:
        axes.set_ylim(bottom=0)
    axes.margins(y=0.12)
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    if len(chart.series) > 1:
        _legend(axes, chart)


def chart_png(chart: Chart, language: str = "fr") -> bytes:
    """The chart as a PNG image of 1200 × 675 pixels (a character the font lacks, an emoji say,
    is drawn as a box). A chart without labels or series is drawn empty, with a dash."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        figure, axes = plt.subplots(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
        try:
            title = textwrap.fill(" ".join(clean(chart.title).split()), 70)
            axes.set_title(title, fontsize=12, fontweight="bold")
            if chart.labels and chart.series:
                _draw(axes, chart, language)
                _axes(axes, chart, language)
            else:
                axes.text(
                    0.5,
                    0.5,
                    "—",
                    ha="center",
                    va="center",
                    fontsize=28,
                    color=EMPTY_INK,
                    transform=axes.transAxes,
                )
                axes.set_xticks([])
                axes.set_yticks([])
            if chart.y_label:
                axes.set_ylabel(clean(chart.y_label), fontsize=10)
            for side in ("top", "right"):
                axes.spines[side].set_visible(False)
            figure.tight_layout()
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=DPI)
            return buffer.getvalue()
        finally:
            plt.close(figure)
