"""The reconciliation chart as a PNG: gross, fees and net by channel, and the trend over the days.

Why matplotlib with the Agg backend: it draws to a raster in memory with no
display and no GUI toolkit, so it runs on a headless till and in tests; the
backend is chosen on the figure (`FigureCanvasAgg`), never globally, so
nothing else in the process changes. The size is fixed in pixels
(`WIDTH_PX` x `HEIGHT_PX`) so a report always looks the same.
"""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pos.reconcile.report import Report

__all__ = ["HEIGHT_PX", "WIDTH_PX", "render_chart", "write_chart"]

WIDTH_PX, HEIGHT_PX, DPI = 1200, 600, 100
COLOURS = {"gross": "#4472c4", "fees": "#ed7d31", "net": "#70ad47"}


def _yuan(fen: int) -> float:
    return fen / 100   # display only: the figures in the report stay integer fen


def render_chart(report: Report) -> bytes:
    """PNG bytes: by channel on the left; per day on the right (a single day is one group of bars)."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    channels: dict[str, list[int]] = {}
    for c in report.channels:
        row = channels.setdefault(c.channel, [0, 0, 0])
        row[0] += c.gross
        row[1] += c.fees
        row[2] += c.net
    names = sorted(channels)
    width = 0.27
    for i, key in enumerate(("gross", "fees", "net")):
        xs = [n + (i - 1) * width for n in range(len(names))]
        left.bar(xs, [_yuan(channels[name][i]) for name in names], width, label=key, color=COLOURS[key])
    left.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    left.set_title(f"by channel, {report.first}" + (f" to {report.last}" if report.last != report.first else ""))
    left.set_ylabel("CNY")
    left.legend(fontsize=8)
    days = [d.day.isoformat()[5:] for d in report.days]
    for key in ("gross", "fees", "net"):
        values = [_yuan(getattr(d, key)) for d in report.days]
        right.plot(days, values, marker="o", label=key, color=COLOURS[key])
    right.set_title("per clearing day")
    right.tick_params(axis="x", labelrotation=45, labelsize=7)
    right.legend(fontsize=8)
    figure.suptitle(f"merchant {report.merchant}: {len(report.exceptions)} exception(s)")
    figure.tight_layout()
    canvas.draw()
    out = BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def write_chart(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_chart(report))
