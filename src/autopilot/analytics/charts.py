"""Small server-rendered charts for the dashboard: the geometry of an inline SVG (no chart library,
no script, nothing the Content-Security-Policy would refuse) and the sentence that describes it for
a screen reader. A value that is unknown leaves a gap; it is never drawn as a zero. Negative values
(LinkedIn reports net counts) are clamped to the axis in the drawing only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 300, 120
TOP, BOTTOM = 8, 104  # the plot's vertical extent inside the view box; labels sit below


@dataclass(frozen=True)
class Point:
    label: str  # what the reader sees for the x value (a day)
    value: float | None


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    """An SVG chart's shapes, its axis labels and a one-sentence description of what it shows."""

    title: str
    kind: str  # "bars" | "line"
    points: list[Point]
    bars: list[Bar]
    lines: list[str]  # polyline "x,y x,y …" runs, split where a value is unknown
    dots: list[tuple[float, float, str]]
    first_label: str
    last_label: str
    top_label: str
    description: str
    show: Callable[[float | None], str]

    @property
    def empty(self) -> bool:
        return not any(p.value is not None for p in self.points)


def build(title: str, kind: str, points: Sequence[Point], show: Callable[[float | None], str]) -> Chart:
    """The chart of *points* in order, scaled from 0 to the highest value."""
    known = [p.value for p in points if p.value is not None]
    high = max([*known, 0.0])
    scale = (BOTTOM - TOP) / high if high > 0 else 0.0
    step = WIDTH / max(len(points), 1)
    bars: list[Bar] = []
    lines: list[str] = []
    dots: list[tuple[float, float, str]] = []
    run: list[str] = []
    for index, point in enumerate(points):
        if point.value is None:
            if run:
                lines.append(" ".join(run))
                run = []
            continue
        height = max(point.value, 0.0) * scale
        y = BOTTOM - height
        caption = f"{point.label}: {show(point.value)}"
        if kind == "bars":
            left, width = round(index * step + step * 0.1, 2), round(step * 0.8, 2)
            bars.append(Bar(left, round(y, 2), width, round(height, 2), caption))
        else:
            x = round(index * step + step / 2, 2)
            run.append(f"{x},{round(y, 2)}")
            dots.append((x, round(y, 2), caption))
    if run:
        lines.append(" ".join(run))
    return Chart(
        title=title,
        kind=kind,
        points=list(points),
        bars=bars,
        lines=lines,
        dots=dots,
        first_label=points[0].label if points else "",
        last_label=points[-1].label if points else "",
        top_label=show(high) if known else "",
        description=describe(title, points, show),
        show=show,
    )


def describe(title: str, points: Sequence[Point], show: Callable[[float | None], str]) -> str:
    """ "Impressions from 2026-11-01 to 2026-11-20: lowest 120, highest 5,400, latest 3,210 (18 of 20 days known)."""
    known = [p for p in points if p.value is not None]
    if not known:
        return f"{title}: no figures known yet."
    values = [p.value for p in known if p.value is not None]
    return (
        f"{title} from {points[0].label} to {points[-1].label}: lowest {show(min(values))}, "
        f"highest {show(max(values))}, latest {show(known[-1].value)} ({len(known)} of {len(points)} known)."
    )
