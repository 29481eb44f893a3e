"""Bar charts as inline SVG, drawn on the server: no chart library, nothing loaded from
elsewhere, nothing for the Content-Security-Policy to allow. Colours are CSS classes
(static/css/web.css), not inline styles; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

_ROW = 26
_LABEL_W = 190
_BAR_W = 360


def bar_chart(title: str, rows: Sequence[tuple[str, Sequence[int]]], series: Sequence[str] = ("",)) -> Markup:
    """Horizontal bars, one row per label and one bar per series value, each with its number;
    ``title`` becomes the SVG's accessible name (role img + title)."""
    top = max((v for _, values in rows for v in values), default=0) or 1
    per_row = _ROW * max(1, len(series))
    height = max(1, len(rows)) * (per_row + 6) + 10
    width = _LABEL_W + _BAR_W + 60
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    y = 5
    for label, values in rows:
        parts.append(f'<text x="{_LABEL_W - 8}" y="{y + per_row / 2 + 4:.0f}" text-anchor="end">'
                     f'{escape(label[:40])}</text>')
        for i, value in enumerate(values):
            w = max(1, round(_BAR_W * value / top)) if value else 0
            cls = "bar" if i == 0 else "bar2"
            by = y + i * _ROW
            parts.append(f'<rect class="{cls}" x="{_LABEL_W}" y="{by + 3}" width="{w}" height="{_ROW - 8}">'
                         f'<title>{escape(label)}{": " + escape(series[i]) if series[i] else ""}: {value}</title></rect>')
            parts.append(f'<text x="{_LABEL_W + w + 6}" y="{by + _ROW / 2 + 4:.0f}">{value}</text>')
        y += per_row + 6
    parts.append(f'<line class="axis" x1="{_LABEL_W}" y1="0" x2="{_LABEL_W}" y2="{height}"/></svg>')
    return Markup("".join(parts))
