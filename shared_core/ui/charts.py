"""Small charts as inline SVG, made on the server from counts (never from memory text).

Labels are escaped here (the result is inserted into the page as markup)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ["#2f6fb0", "#e07b39", "#3a9a5b", "#c2453d", "#7d5bb5", "#8c6d31", "#5a5a5a"]
W, H, PAD_L, PAD_B, PAD_T, PAD_R = 640, 260, 44, 36, 34, 120


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _frame(title: str, body: list[str], legend: Sequence[str]) -> str:
    items = [
        f'<rect x="{W - PAD_R + 12}" y="{PAD_T + 16 * i}" width="10" height="10" fill="{_color(i)}"/>'
        f'<text x="{W - PAD_R + 26}" y="{PAD_T + 9 + 16 * i}" font-size="11">{escape(name)}</text>'
        for i, name in enumerate(legend)
    ]
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {W} {H}" '
        f'width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="{PAD_L}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>'
        f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#888"/>'
        f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#888"/>'
        + "".join(body)
        + "".join(items)
        + "</svg>"
    )


def _y_ticks(top: float, fmt: str = "{:g}") -> list[str]:
    out = []
    for i in range(5):
        v = top * i / 4
        y = H - PAD_B - (H - PAD_B - PAD_T) * i / 4
        out.append(
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{escape(fmt.format(v))}</text>'
            f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - PAD_R}" y2="{y:.1f}" stroke="#eee"/>'
        )
    return out


def stacked_bars(title: str, series: Mapping[str, Mapping[str, int]], keys: Sequence[str]) -> str:
    """One bar per label (e.g. a day), stacked by key (e.g. kind)."""
    labels = list(series)
    if not labels:
        return _frame(title, ['<text x="60" y="100" font-size="12">no data</text>'], [])
    top = max(1, max(sum(series[lab].values()) for lab in labels))
    top = 4 * math.ceil(top / 4)  # four whole-number ticks
    plot_w = W - PAD_L - PAD_R
    bw = plot_w / len(labels)
    body = _y_ticks(top, "{:.0f}")
    step = max(1, len(labels) // 8)
    for i, lab in enumerate(labels):
        x = PAD_L + i * bw
        y = float(H - PAD_B)
        for k_i, key in enumerate(keys):
            n = series[lab].get(key, 0)
            if not n:
                continue
            h = (H - PAD_B - PAD_T) * n / top
            y -= h
            body.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{_color(k_i)}"><title>{escape(lab)} {escape(key)}: {n}</title></rect>'
            )
        if i % step == 0:
            body.append(
                f'<text x="{x + bw / 2:.1f}" y="{H - PAD_B + 14}" font-size="10" text-anchor="middle">'
                f"{escape(lab[5:] if len(lab) == 10 else lab)}</text>"
            )
    return _frame(title, body, keys)


def bars(title: str, values: Mapping[str, float]) -> str:
    """One bar per label."""
    return stacked_bars(title, {k: {"count": int(v)} for k, v in values.items()}, ["count"])


def lines(title: str, curves: Mapping[str, Sequence[tuple[float, float]]], x_label: str = "days") -> str:
    """Lines of (x, y) with y in [0, 1] (decay curves)."""
    names = list(curves)
    xmax = max((p[0] for c in curves.values() for p in c), default=1.0) or 1.0
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_B - PAD_T
    body = _y_ticks(1.0, "{:.2f}")
    for i, name in enumerate(names):
        pts = " ".join(
            f"{PAD_L + plot_w * x / xmax:.1f},{H - PAD_B - plot_h * max(0.0, min(1.0, y)):.1f}"
            for x, y in curves[name]
        )
        body.append(f'<polyline points="{pts}" fill="none" stroke="{_color(i)}" stroke-width="2"/>')
    for j in range(5):
        x = xmax * j / 4
        body.append(
            f'<text x="{PAD_L + plot_w * j / 4:.1f}" y="{H - PAD_B + 14}" font-size="10" '
            f'text-anchor="middle">{x:.0f}</text>'
        )
    body.append(
        f'<text x="{PAD_L + plot_w / 2:.1f}" y="{H - 4}" font-size="10" text-anchor="middle">{escape(x_label)}</text>'
    )
    return _frame(title, body, names)
