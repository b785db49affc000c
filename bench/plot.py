"""The scale-curve plot as PNG (and SVG), with the standard library only: a small raster canvas,
a 5x7 pixel font and zlib. The project has no plotting dependency and a benchmark should not add
one for a single chart."""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from pathlib import Path

# 5x7 glyphs, one string of 7 rows of 5 bits per character.
_FONT = {
    " ": "00000" * 7,
    "0": "01110100011001110101110011000101110",
    "1": "00100011000010000100001000010001110",
    "2": "01110100010000100010001000100011111",
    "3": "11111000100010000010000011000101110",
    "4": "00010001100101010010111110001000010",
    "5": "11111100001111000001000011000101110",
    "6": "00110010001000011110100011000101110",
    "7": "11111000010001000100010000100001000",
    "8": "01110100011000101110100011000101110",
    "9": "01110100011000101111000010001001100",
    ".": "00000000000000000000000000110001100",
    ",": "00000000000000000000001100010001000",
    ":": "00000011000110000000011000110000000",
    "-": "00000000000000011111000000000000000",
    "/": "00000000010001000100010001000000000",
    "(": "00010001000100001000010000010000010",
    ")": "01000001000001000010000100010001000",
    "%": "11000110010001000100010001001100011",
    "=": "00000000001111100000111110000000000",
    "<": "00010001000100010000010000010000010",
    "+": "00000001000010011111001000010000000",
    "_": "00000000000000000000000000000011111",
    "x": "00000000001000101010001000101010001",
}
_UPPER = {
    "A": "01110100011000111111100011000110001",
    "B": "11110100011000111110100011000111110",
    "C": "01110100011000010000100001000101110",
    "D": "11100100101000110001100011001011100",
    "E": "11111100001000011110100001000011111",
    "F": "11111100001000011110100001000010000",
    "G": "01110100011000010111100011000101111",
    "H": "10001100011000111111100011000110001",
    "I": "01110001000010000100001000010001110",
    "J": "00111000100001000010000101001001100",
    "K": "10001100101010011000101001001010001",
    "L": "10000100001000010000100001000011111",
    "M": "10001110111010110101100011000110001",
    "N": "10001100011100110101100111000110001",
    "O": "01110100011000110001100011000101110",
    "P": "11110100011000111110100001000010000",
    "Q": "01110100011000110001101011001001101",
    "R": "11110100011000111110101001001010001",
    "S": "01111100001000001110000010000111110",
    "T": "11111001000010000100001000010000100",
    "U": "10001100011000110001100011000101110",
    "V": "10001100011000110001100010101000100",
    "W": "10001100011000110101101011010101010",
    "X": "10001100010101000100010101000110001",
    "Y": "10001100011000101010001000010000100",
    "Z": "11111000010001000100010001000011111",
}
_FONT.update(_UPPER)

COLORS = [
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (120, 120, 120),
]
SVG_COLORS = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in COLORS]


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        self.px = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x: int, y: int, color: tuple[int, int, int]) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i : i + 3] = bytes(color)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.h, y1 + 1)):
            for x in range(max(0, x0), min(self.w, x1 + 1)):
                self.dot(x, y, color)

    def line(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        color: tuple[int, int, int],
        width: int = 1,
    ) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        r = width // 2
        for k in range(steps + 1):
            x = round(x0 + (x1 - x0) * k / steps)
            y = round(y0 + (y1 - y0) * k / steps)
            self.rect(x - r, y - r, x + r, y + r, color)

    def disc(self, cx: float, cy: float, radius: int, color: tuple[int, int, int]) -> None:
        for y in range(-radius, radius + 1):
            for x in range(-radius, radius + 1):
                if x * x + y * y <= radius * radius:
                    self.dot(round(cx) + x, round(cy) + y, color)

    def text(
        self, x: int, y: int, s: str, color: tuple[int, int, int] = (30, 30, 30), scale: int = 2
    ) -> int:
        for ch in s:
            glyph = _FONT.get(ch) or _FONT.get(ch.upper()) or _FONT[" "]
            for row in range(7):
                for col in range(5):
                    if glyph[row * 5 + col] == "1":
                        self.rect(
                            x + col * scale,
                            y + row * scale,
                            x + col * scale + scale - 1,
                            y + row * scale + scale - 1,
                            color,
                        )
            x += 6 * scale
        return x

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.px[y * self.w * 3 : (y + 1) * self.w * 3]) for y in range(self.h)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def _ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 5)) if span > 0 else 1
    for m in (1, 2, 5, 10):
        if span / (step * m) <= 6:
            step *= m
            break
    first = math.floor(lo / step) * step
    return [
        first + k * step
        for k in range(int((hi - first) / step) + 2)
        if first + k * step <= hi + 1e-9
    ]


def scale_curve(
    series: dict[str, list[tuple[int, float]]],
    title: str,
    png: Path,
    svg: Path,
    target_ms: float | None = 20.0,
) -> None:
    """p95 latency (ms, one connection) against the number of tickets (log scale)."""
    w, h = 960, 560
    left, right, top, bottom = 90, 300, 60, 70
    xs = sorted({x for pts in series.values() for x, _ in pts})
    ys = [y for pts in series.values() for _, y in pts]
    if not xs or not ys:
        return
    xlo, xhi = math.log10(min(xs)), math.log10(max(xs))
    if xhi - xlo < 1e-9:
        xlo, xhi = xlo - 0.5, xhi + 0.5
    ymax = max(max(ys), target_ms or 0) * 1.1
    yticks = _ticks(0, ymax)
    ymax = max(yticks[-1], ymax)

    def px(x: float) -> float:
        return left + (math.log10(x) - xlo) / (xhi - xlo) * (w - left - right)

    def py(y: float) -> float:
        return h - bottom - y / ymax * (h - top - bottom)

    c = Canvas(w, h)
    grid, axis = (225, 225, 225), (60, 60, 60)
    svg_parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'font-family="sans-serif" font-size="13"><rect width="100%" height="100%" '
        f'fill="white"/>'
    ]
    for t in yticks:
        c.line(left, py(t), w - right, py(t), grid)
        c.text(left - 12 - 12 * len(f"{t:g}"), round(py(t)) - 7, f"{t:g}")
        svg_parts.append(
            f'<line x1="{left}" y1="{py(t):.1f}" x2="{w - right}" y2="{py(t):.1f}" '
            f'stroke="#e1e1e1"/><text x="{left - 8}" y="{py(t) + 4:.1f}" '
            f'text-anchor="end">{t:g}</text>'
        )
    for x in xs:
        c.line(px(x), top, px(x), h - bottom, grid)
        label = f"{x:,}"
        c.text(round(px(x)) - 6 * len(label), h - bottom + 10, label)
        svg_parts.append(
            f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{h - bottom}" '
            f'stroke="#e1e1e1"/><text x="{px(x):.1f}" y="{h - bottom + 20}" '
            f'text-anchor="middle">{label}</text>'
        )
    if target_ms is not None:
        for k in range(left, w - right, 12):
            c.line(k, py(target_ms), min(k + 6, w - right), py(target_ms), (200, 0, 0))
        c.text(w - right - 190, round(py(target_ms)) - 18, f"TARGET {target_ms:g} MS", (200, 0, 0))
        svg_parts.append(
            f'<line x1="{left}" y1="{py(target_ms):.1f}" x2="{w - right}" '
            f'y2="{py(target_ms):.1f}" stroke="#c80000" stroke-dasharray="6 6"/>'
            f'<text x="{w - right - 4}" y="{py(target_ms) - 6:.1f}" '
            f'text-anchor="end" fill="#c80000">target {target_ms:g} ms</text>'
        )
    c.line(left, top, left, h - bottom, axis, 2)
    c.line(left, h - bottom, w - right, h - bottom, axis, 2)
    c.text(left, 10, title)
    c.text(left + 120, h - 30, "TICKETS (LOG SCALE)")
    c.text(10, top - 22, "P95 MS, 1 CONNECTION")
    svg_parts.append(
        f'<text x="{left}" y="32" font-size="16">{title}</text>'
        f'<text x="{(w - right + left) / 2}" y="{h - 22}" text-anchor="middle">'
        f'tickets (log scale)</text><text x="16" y="{top - 16}">p95 ms, '
        f"one connection</text>"
    )
    for k, (name, pts) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        pts = sorted(pts)
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            c.line(px(x0), py(y0), px(x1), py(y1), color, 3)
        for x, y in pts:
            c.disc(px(x), py(y), 5, color)
        ly = top + 10 + k * 28
        c.rect(w - right + 20, ly, w - right + 40, ly + 12, color)
        c.text(w - right + 48, ly, name.replace("_", " "), scale=2)
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(pts)
        )
        svg_parts.append(
            f'<path d="{path}" fill="none" stroke="{SVG_COLORS[k % 7]}" '
            f'stroke-width="3"/>'
            + "".join(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" '
                f'fill="{SVG_COLORS[k % 7]}"><title>{name} {x:,}: {y:.2f} ms'
                f"</title></circle>"
                for x, y in pts
            )
            + f'<rect x="{w - right + 20}" y="{ly}" width="20" height="12" '
            f'fill="{SVG_COLORS[k % 7]}"/><text x="{w - right + 48}" '
            f'y="{ly + 11}">{name.replace("_", " ")}</text>'
        )
    png.write_bytes(c.png())
    svg.write_text("".join(svg_parts) + "</svg>\n")
