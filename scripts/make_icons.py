"""Draw the home-screen icons (a basket on the app's green), committed as PNG files:

    python scripts/make_icons.py        # writes core/static/icons/icon-192.png and icon-512.png
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "core" / "static" / "icons"
GREEN = (47, 107, 63, 255)
WHITE = (255, 255, 255, 255)
GOLD = (240, 190, 60, 255)


def draw(size: int) -> Image.Image:
    scale = 4  # drawn large, shrunk smooth
    s = size * scale
    img = Image.new("RGBA", (s, s), GREEN)
    d = ImageDraw.Draw(img)

    def p(x: float, y: float) -> tuple[float, float]:
        return (x * s, y * s)

    # everything inside the maskable safe zone (the middle 80%)
    width = 0.045 * s
    d.arc([p(0.32, 0.20), p(0.68, 0.56)], start=180, end=360, fill=WHITE, width=int(width))   # handle
    d.polygon([p(0.22, 0.40), p(0.78, 0.40), p(0.70, 0.76), p(0.30, 0.76)], fill=WHITE)     # basket
    for y in (0.50, 0.60):                                                                     # weave
        d.line([p(0.26, y), p(0.74, y)], fill=GREEN, width=int(0.025 * s))
    for x in (0.40, 0.50, 0.60):
        d.line([p(x, 0.42), p(x - (x - 0.5) * 0.3, 0.74)], fill=GREEN, width=int(0.02 * s))
    d.ellipse([p(0.44, 0.30), p(0.56, 0.42)], fill=GOLD)                                       # a grain
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
        print(OUT / f"icon-{size}.png")


if __name__ == "__main__":
    main()
