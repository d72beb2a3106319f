"""Labels beside points that never overlap: tried around the point, then further off with a leader line.

Each label is placed in turn, the most important first, at the first spot where its box overlaps no
label already placed and no point drawn, and stays inside the axes: beside its point (right and
above, right and below, left and above, left and below), then further up or down in steps of a line,
joined to its point by a thin leader line. A label with no such spot is left out and returned, so the
chart can say which points it could not name. Boxes are measured with the renderer of the figure at
its own resolution; a file written at another resolution scales every box alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

#: Points between a point and its label, and between two labels.
GAP = 5.0
PADDING = 1.5
#: Steps of one line height tried above and below a crowded point before giving up.
STEPS = 10
#: Half the side of the box kept clear around each labelled point, in points.
MARKER_RADIUS = 3.0


@dataclass(frozen=True)
class PointLabel:
    """A label for the point (x, y), in data coordinates."""

    text: str
    x: float
    y: float
    gid: str
    bold: bool = False


def text_box(annotation: Annotation, renderer) -> Bbox:
    """The box of an annotation's text alone (without its leader line), in display coordinates."""
    return Text.get_window_extent(annotation, renderer)


def _renderer(axes: Axes):
    figure = axes.figure
    if not hasattr(figure.canvas, "get_renderer"):
        FigureCanvasAgg(figure)
    return figure.canvas.get_renderer()


def _offsets(width: float, height: float) -> list[tuple[float, float, bool]]:
    """(dx, dy, far) in points from the point to the label's lower left corner, nearest first."""
    right, left = GAP, -GAP - width
    above, below = GAP, -GAP - height
    near = [(right, above, False), (right, below, False), (left, above, False), (left, below, False)]
    far = [
        (dx, dy + sign * step * (height + PADDING), True)
        for step in range(1, STEPS + 1)
        for dx in (right, left)
        for dy, sign in ((above, 1), (below, -1))
    ]
    return near + far


def _overlaps(a: Bbox, b: Bbox, padding: float) -> bool:
    return a.x0 < b.x1 + padding and b.x0 < a.x1 + padding and a.y0 < b.y1 + padding and b.y0 < a.y1 + padding


def _free_spot(
    point: tuple[float, float], size: Bbox, pixels: float, area: Bbox, taken: list[Bbox]
) -> tuple[float, float, bool, Bbox] | None:
    """The first offset (in points) where a label of `size` stays in `area` clear of `taken`."""
    x, y = point
    for dx, dy, far in _offsets(size.width / pixels, size.height / pixels):
        box = Bbox.from_bounds(x + dx * pixels, y + dy * pixels, size.width, size.height)
        inside = area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1
        if inside and not any(_overlaps(box, other, PADDING * pixels) for other in taken):
            return dx, dy, far, box
    return None


def place_labels(
    axes: Axes,
    labels: list[PointLabel],
    *,
    fontsize: float,
    color: str,
    points: list[tuple[float, float]] = (),
) -> list[str]:
    """Annotate the points of `labels` (most important first) without overlap; returns those left out.

    No label covers a labelled point, nor any of `points` (the other points drawn, in data
    coordinates). Call it once the axes' limits are final: positions are measured on the screen.
    """
    renderer = _renderer(axes)
    pixels = axes.figure.dpi / 72  # pixels per point
    area = axes.get_window_extent(renderer)
    radius = MARKER_RADIUS * pixels
    markers = []
    for x, y in axes.transData.transform([(p.x, p.y) for p in labels] + list(points)).reshape(-1, 2):
        markers.append(Bbox.from_extents(x - radius, y - radius, x + radius, y + radius))
    placed: list[Bbox] = []
    left_out: list[str] = []
    for label in labels:
        style = {
            "fontsize": fontsize,
            "color": color,
            "fontweight": "bold" if label.bold else "normal",
            "va": "bottom",
            "ha": "left",
        }
        probe = axes.annotate(
            label.text, (label.x, label.y), xytext=(0, 0), textcoords="offset points", **style
        )
        size = text_box(probe, renderer)
        probe.remove()
        x, y = axes.transData.transform((label.x, label.y))
        spot = _free_spot((x, y), size, pixels, area, placed + markers)
        if spot is None:
            left_out.append(label.text)
            continue
        dx, dy, far, box = spot
        axes.annotate(
            label.text,
            (label.x, label.y),
            xytext=(dx, dy),
            textcoords="offset points",
            gid=label.gid,
            arrowprops={"arrowstyle": "-", "color": color, "linewidth": 0.5, "shrinkA": 0, "shrinkB": 2}
            if far
            else None,
            **style,
        )
        placed.append(box)
    return left_out
