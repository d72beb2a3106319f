"""Making Data Count's colours and icons, drawn with matplotlib.

Colours are those of NHSRplotthedots' charts: improvement blue, concern orange, neutral purple, common
cause grey, target red. Icons are drawn as MDC draws them in outline: a circle in the signal's colour
holding H (higher) or L (lower) for variation, P (pass), F (fail) or ? (hit and miss) for assurance, each
labelled with NHSRplotthedots' icon name.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Circle

GREY = "#7B7D7D"
BLUE = "#289DE0"
ORANGE = "#FAB428"
PURPLE = "#361475"
RED = "#DE1B1B"
DARK = "#231F20"
NHS_BLUE = "#005EB8"

POINT_COLOURS = {
    "common_cause": GREY,
    "special_cause_improvement": BLUE,
    "special_cause_concern": ORANGE,
    "special_cause_neutral_high": PURPLE,
    "special_cause_neutral_low": PURPLE,
}
POINT_NAMES = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: neither (high)",
    "special_cause_neutral_low": "Special cause: neither (low)",
}

VARIATION_ICONS = {
    "common_cause": (GREY, ""),
    "improvement_high": (BLUE, "H"),
    "improvement_low": (BLUE, "L"),
    "concern_high": (ORANGE, "H"),
    "concern_low": (ORANGE, "L"),
    "neutral_high": (PURPLE, "H"),
    "neutral_low": (PURPLE, "L"),
}
ASSURANCE_ICONS = {
    "consistent_pass": (BLUE, "P"),
    "consistent_fail": (ORANGE, "F"),
    "inconsistent": (GREY, "?"),
}


def draw_icon(
    figure: Figure, rect: tuple[float, float, float, float], colour: str, letter: str, name: str, gid: str
) -> None:
    """An MDC-style icon in its own square axes at `rect` (figure fractions), its name underneath."""
    axes = figure.add_axes(rect)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_gid(gid)
    axes.add_patch(Circle((0.5, 0.58), 0.36, facecolor="white", edgecolor=colour, linewidth=2.5))
    if letter:
        axes.text(0.5, 0.58, letter, ha="center", va="center", fontsize=14, fontweight="bold", color=colour)
    else:  # common cause: a short grey run of points, as on the MDC icon
        for dx, dy in ((-0.2, -0.05), (-0.07, 0.07), (0.07, -0.03), (0.2, 0.05)):
            axes.add_patch(Circle((0.5 + dx, 0.58 + dy), 0.045, color=colour))
    axes.text(0.5, 0.08, name, ha="center", va="center", fontsize=6.5, color=DARK)
