"""Regenerate public/brand/wordmark*.svg: "ATUM DESK" set in Space Grotesk, converted to paths.

Not part of the build (the SVGs are committed); run it after changing the face or the colours:
    python3 -m venv /tmp/v && /tmp/v/bin/pip install fonttools
    /tmp/v/bin/python scripts/brand/build_wordmark.py
The font comes from node_modules/@fontsource/space-grotesk (npm install first).
"""

from __future__ import annotations

from pathlib import Path

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

WEB = Path(__file__).resolve().parents[2]
FILES = WEB / "node_modules/@fontsource/space-grotesk/files"
CAP = 20.0  # cap height in viewBox units
TRACKING = 0.18  # em
WORD_GAP = 0.42  # em, between ATUM and DESK

VARIANTS = {
    "wordmark.svg": {"title": "ATUM DESK", "atum": "#EEF1FA", "desk_from": "#F5B544", "desk_to": "#F08A24"},
    "wordmark-dark.svg": {"title": "ATUM DESK", "atum": "#0B1130", "desk_from": "#B4610A", "desk_to": "#A3520A"},
}


def fmt(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def word_paths(font: TTFont, text: str, x: float, scale: float, baseline: float) -> tuple[str, float]:
    glyph_set = font.getGlyphSet()
    cmap = font.getBestCmap()
    upm = font["head"].unitsPerEm
    parts = []
    for i, ch in enumerate(text):
        name = cmap[ord(ch)]
        pen = SVGPathPen(glyph_set, ntos=fmt)
        glyph_set[name].draw(TransformPen(pen, (scale, 0, 0, -scale, x, baseline)))
        parts.append(pen.getCommands())
        x += glyph_set[name].width * scale
        if i < len(text) - 1:
            x += TRACKING * upm * scale
    return " ".join(parts), x


def build() -> None:
    bold = TTFont(FILES / "space-grotesk-latin-700-normal.woff")
    medium = TTFont(FILES / "space-grotesk-latin-500-normal.woff")
    cap_units = bold["OS/2"].sCapHeight
    scale = CAP / cap_units
    upm = bold["head"].unitsPerEm
    atum, x = word_paths(bold, "ATUM", 0.0, scale, CAP)
    x += WORD_GAP * upm * scale
    desk, end = word_paths(medium, "DESK", x, scale, CAP)
    width = end
    for file_name, v in VARIANTS.items():
        svg = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fmt(width)} {fmt(CAP)}" width="{fmt(width * 0.9)}" height="{fmt(CAP * 0.9)}" role="img" aria-labelledby="title">
  <title id="title">{v["title"]}</title>
  <defs>
    <linearGradient id="sun" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="{v["desk_from"]}"/>
      <stop offset="1" stop-color="{v["desk_to"]}"/>
    </linearGradient>
  </defs>
  <path fill="{v["atum"]}" d="{atum}"/>
  <path fill="url(#sun)" d="{desk}"/>
</svg>
"""
        (WEB / "public/brand" / file_name).write_text(svg)
        print(file_name, fmt(width), "x", fmt(CAP))


if __name__ == "__main__":
    build()
