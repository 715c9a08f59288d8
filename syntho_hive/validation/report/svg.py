"""Hand-made inline SVG charts for the HTML report (no plotting dependency, no external assets).

Every text that ends up in the SVG goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

__all__ = ["paired_bars", "heatmap", "REAL_COLOUR", "SYNTHETIC_COLOUR"]

REAL_COLOUR = "#1f77b4"
SYNTHETIC_COLOUR = "#ff7f0e"


def _num(value: float) -> str:
    return f"{value:.1f}"


def paired_bars(labels: Sequence[str], real: Sequence[float], synthetic: Sequence[float], *,
                title: str, width: int = 420, height: int = 200, rotate_labels: bool = False,
                css_class: str = "dist-plot") -> str:
    """Side-by-side bars of real and synthetic shares per bin/category.

    Args:
        labels: One label per bar group (shown under the axis, thinned when crowded).
        real: Real share per group.
        synthetic: Synthetic share per group.
        title: Accessible title (``<title>`` element).
        width: Width in px.
        height: Height in px.
        rotate_labels: Rotate labels (long category names).
        css_class: CSS class of the ``<svg>``.

    Returns:
        An ``<svg>`` element as a string.
    """
    n = max(len(labels), 1)
    left, right, top = 34, 8, 24
    bottom = 70 if rotate_labels else 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([*real, *synthetic, 1e-12])
    group = plot_w / n
    bar = max(group * 0.4, 0.5)
    parts = [f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="9" text-anchor="end">{escape(f"{peak:.2f}")}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" font-size="9" text-anchor="end">0</text>']
    for i, (r, s) in enumerate(zip(real, synthetic)):
        x = left + i * group + group * 0.1
        for offset, value, colour, which in ((0.0, r, REAL_COLOUR, "real"), (bar, s, SYNTHETIC_COLOUR, "synthetic")):
            h = plot_h * float(value) / peak
            tip = escape(f"{labels[i] if i < len(labels) else ''}: {which} {float(value):.3f}")
            parts.append(f'<rect x="{_num(x + offset)}" y="{_num(top + plot_h - h)}" width="{_num(bar)}" '
                         f'height="{_num(h)}" fill="{colour}"><title>{tip}</title></rect>')
    step = max(1, int(np.ceil(n / (12 if rotate_labels else 6))))
    for i in range(0, len(labels), step):
        x = left + (i + 0.5) * group
        y = top + plot_h + 12
        text = escape(str(labels[i])[:18])
        if rotate_labels:
            parts.append(f'<text x="{_num(x)}" y="{y}" font-size="9" text-anchor="end" '
                         f'transform="rotate(-40 {_num(x)} {y})">{text}</text>')
        else:
            parts.append(f'<text x="{_num(x)}" y="{y}" font-size="9" text-anchor="middle">{text}</text>')
    legend_y = 10
    parts.append(f'<rect x="{left}" y="{legend_y - 7}" width="8" height="8" fill="{REAL_COLOUR}"/>'
                 f'<text x="{left + 11}" y="{legend_y}" font-size="9">real</text>'
                 f'<rect x="{left + 40}" y="{legend_y - 7}" width="8" height="8" fill="{SYNTHETIC_COLOUR}"/>'
                 f'<text x="{left + 51}" y="{legend_y}" font-size="9">synthetic</text>')
    parts.append("</svg>")
    return "".join(parts)


def _colour(value: float, vmin: float, vmax: float, diverging: bool) -> str:
    if not np.isfinite(value):
        return "#dddddd"
    t = (min(max(value, vmin), vmax) - vmin) / (vmax - vmin)
    if diverging:  # blue (-) -> white (0) -> red (+)
        if t < 0.5:
            k = t / 0.5
            rgb = (int(33 + k * 222), int(102 + k * 153), int(172 + k * 83))
        else:
            k = (t - 0.5) / 0.5
            rgb = (int(255 - k * 77), int(255 - k * 231), int(255 - k * 212))
    else:  # white -> dark purple
        rgb = (int(255 - t * 171), int(255 - t * 216), int(255 - t * 118))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap(matrix: np.ndarray, labels: Sequence[str], *, title: str, vmin: float = -1.0,
            vmax: float = 1.0, diverging: bool = True, cell: int = 0) -> str:
    """A square heatmap with row/column labels and the value in each cell's tooltip.

    Args:
        matrix: ``k x k`` values (NaN drawn grey).
        labels: ``k`` labels.
        title: Title drawn above the map (and used as the accessible title).
        vmin: Value of the lowest colour.
        vmax: Value of the highest colour.
        diverging: Blue-white-red (correlations) instead of white-purple (differences).
        cell: Cell size in px (0 picks one from ``k``).

    Returns:
        An ``<svg>`` element as a string.
    """
    k = len(labels)
    cell = cell or max(10, min(28, 360 // max(k, 1)))
    margin = 90
    size = margin + cell * k + 6
    width = max(size, margin + 7 * len(title))
    parts = [f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{size + 16}" '
             f'viewBox="0 0 {width} {size + 16}" role="img"><title>{escape(title)}</title>',
             f'<text x="4" y="12" font-size="11" font-weight="bold">{escape(title)}</text>']
    for i in range(k):
        y = 16 + margin + i * cell
        parts.append(f'<text x="{margin - 3}" y="{y + cell * 0.7:.1f}" font-size="9" text-anchor="end">'
                     f"{escape(str(labels[i])[:14])}</text>")
        x_label = margin + i * cell + cell * 0.6
        parts.append(f'<text x="{x_label:.1f}" y="{16 + margin - 3}" font-size="9" '
                     f'transform="rotate(-60 {x_label:.1f} {16 + margin - 3})">{escape(str(labels[i])[:14])}</text>')
        for j in range(k):
            value = float(matrix[i, j])
            tip = f"{labels[i]} / {labels[j]}: {value:.3f}" if np.isfinite(value) else f"{labels[i]} / {labels[j]}: n/a"
            parts.append(f'<rect x="{margin + j * cell}" y="{y}" width="{cell}" height="{cell}" '
                         f'fill="{_colour(value, vmin, vmax, diverging)}" stroke="#fff">'
                         f"<title>{escape(tip)}</title></rect>")
    parts.append("</svg>")
    return "".join(parts)
