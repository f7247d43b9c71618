"""The app's install icons (web/static/icons/), drawn with Pillow so they can be drawn again.

The committed PNGs are what `draw` returns; tests/web/test_pwa_shell.py checks that they still are.
Regenerate after changing the drawing: python -m tests.support.icons
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from tests.support.recorder import REPO

ICONS = REPO / "src" / "autopilot" / "web" / "static" / "icons"
BRAND = (15, 76, 129, 255)  # --brand in app.css, the manifest's theme colour
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
# (file name, size in px, kind). "maskable" icons are cropped by the launcher to a circle of 80% of
# their size: the mark stays inside that safe zone and the background fills every pixel. The
# "badge" is the small monochrome mark Android shows in the status bar (only its alpha counts).
VARIANTS = (
    ("icon-192.png", 192, "any"),
    ("icon-512.png", 512, "any"),
    ("icon-512-maskable.png", 512, "maskable"),
    ("badge-96.png", 96, "badge"),
)
HALF_WIDTH = {"any": 0.36, "maskable": 0.27, "badge": 0.46}  # the mark's half-width, a share of the icon


def draw(size: int, kind: str) -> bytes:
    """A paper plane (the autopilot) on the brand colour (white on nothing for the badge), as PNG bytes."""
    scale = 4  # drawn large, then reduced: smooth edges without an anti-aliasing library
    big = size * scale
    image = Image.new("RGBA", (big, big), CLEAR)
    pen = ImageDraw.Draw(image)
    if kind == "maskable":
        pen.rectangle((0, 0, big, big), fill=BRAND)
    elif kind == "any":
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BRAND)
    inset = 0.5 - HALF_WIDTH[kind]

    def at(x: float, y: float) -> tuple[float, float]:
        return (inset + x * (1 - 2 * inset)) * big, (inset + y * (1 - 2 * inset)) * big

    pen.polygon([at(0.0, 0.45), at(1.0, 0.0), at(0.62, 1.0), at(0.45, 0.58)], fill=WHITE)
    pen.polygon([at(0.45, 0.58), at(1.0, 0.0), at(0.52, 0.66)], fill=CLEAR if kind == "badge" else BRAND)
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, size, kind in VARIANTS:
        (ICONS / name).write_bytes(draw(size, kind))
        print(f"wrote {ICONS / name}")


if __name__ == "__main__":
    main()
