"""Draw the app's icons (``assets/icon.svg``, ``icon-192.png``, ``icon-512.png``) for the web app
manifest: a white "D" on the header's near-black, over the header's blue rule (webapp.css
``--header`` and ``--link``). The shapes sit inside the middle 80%, so the PNGs also serve as
maskable icons. Run once after changing the design: ``.venv/bin/python scripts/make_app_icons.py``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
BACKGROUND = (0x0B, 0x0C, 0x0C)  # --header
RULE = (0x1D, 0x70, 0xB8)  # --link: the header's bottom border
LETTER = (0xFF, 0xFF, 0xFF)
# In a unit square: the D's stem and bowl (outer, then the hole), and the rule.
CENTRE_X, CENTRE_Y, OUTER, INNER = 0.5, 0.46, 0.26, 0.15
STEM_LEFT, HOLE_LEFT, TOP, BOTTOM = 0.28, 0.39, CENTRE_Y - OUTER, CENTRE_Y + OUTER
RULE_TOP, RULE_BOTTOM = 0.80, 0.86


def _in_d(x: float, y: float) -> bool:
    def shape(left: float, radius: float) -> bool:
        if not CENTRE_Y - radius <= y <= CENTRE_Y + radius:
            return False
        if left <= x <= CENTRE_X:
            return True
        return x > CENTRE_X and (x - CENTRE_X) ** 2 + (y - CENTRE_Y) ** 2 <= radius**2

    return shape(STEM_LEFT, OUTER) and not shape(HOLE_LEFT, INNER)


def _colour(x: float, y: float) -> tuple[int, int, int]:
    if _in_d(x, y):
        return LETTER
    if RULE_TOP <= y <= RULE_BOTTOM and STEM_LEFT <= x <= 1 - STEM_LEFT:
        return RULE
    return BACKGROUND


def png(size: int) -> bytes:
    """The icon at ``size`` pixels square (4 samples a pixel, so edges are smooth)."""
    rows = bytearray()
    for row in range(size):
        rows.append(0)  # no filter
        for column in range(size):
            samples = [
                _colour((column + dx) / size, (row + dy) / size)
                for dx in (0.25, 0.75)
                for dy in (0.25, 0.75)
            ]
            rows.extend(sum(sample[i] for sample in samples) // 4 for i in range(3))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def svg() -> str:
    def hex_colour(colour: tuple[int, int, int]) -> str:
        return "#{:02x}{:02x}{:02x}".format(*colour)

    def d_path(left: float, radius: float) -> str:
        top, bottom = (CENTRE_Y - radius) * 512, (CENTRE_Y + radius) * 512
        return (
            f"M{left * 512:g} {top:g}H{CENTRE_X * 512:g}"
            f"A{radius * 512:g} {radius * 512:g} 0 0 1 {CENTRE_X * 512:g} {bottom:g}"
            f"H{left * 512:g}Z"
        )

    rule_width = (1 - 2 * STEM_LEFT) * 512
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">'
        f'<rect width="512" height="512" fill="{hex_colour(BACKGROUND)}"/>'
        f'<path fill="{hex_colour(LETTER)}" fill-rule="evenodd" '
        f'd="{d_path(STEM_LEFT, OUTER)}{d_path(HOLE_LEFT, INNER)}"/>'
        f'<rect x="{STEM_LEFT * 512:g}" y="{RULE_TOP * 512:g}" width="{rule_width:g}" '
        f'height="{(RULE_BOTTOM - RULE_TOP) * 512:g}" fill="{hex_colour(RULE)}"/>'
        "</svg>\n"
    )


def main() -> None:
    (ASSETS / "icon.svg").write_text(svg())
    for size in (192, 512):
        (ASSETS / f"icon-{size}.png").write_bytes(png(size))


if __name__ == "__main__":
    main()
