"""Draws a sample screenshot of each demo level with Pillow (audio_chat/static/audio_chat/samples/<slug>.jpg).

The demo page's "attach picture" button sends these, so the picture path can be tried without a game. They are
simple drawings of what each level's description says is on screen; run this again after changing them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "audio_chat" / "static" / "audio_chat" / "samples"
SIZE = (640, 360)
QUALITY = 75

Draw = ImageDraw.ImageDraw


def flower(draw: Draw, x: int, y: int, colour: tuple[int, int, int]) -> None:
    draw.line((x, y, x, y + 50), fill=(40, 140, 40), width=4)
    for angle in range(0, 360, 60):
        dx, dy = 14 * math.cos(math.radians(angle)), 14 * math.sin(math.radians(angle))
        draw.ellipse((x + dx - 9, y + dy - 9, x + dx + 9, y + dy + 9), fill=colour)
    draw.ellipse((x - 7, y - 7, x + 7, y + 7), fill=(250, 220, 90))


def counting_garden(draw: Draw) -> None:
    draw.rectangle((0, 0, 640, 360), fill=(170, 220, 250))
    draw.rectangle((0, 200, 640, 360), fill=(120, 190, 90))
    for number in range(3):
        flower(draw, 120 + number * 90, 120, (220, 40, 40))
    for number in range(4):
        flower(draw, 80 + number * 90, 230, (250, 210, 40))
    draw.rectangle((470, 150, 600, 210), fill=(255, 255, 255), outline=(60, 60, 60), width=3)  # the answer box
    draw.text((480, 120), "How many?", fill=(30, 30, 30))


def castle_red_door(draw: Draw) -> None:
    draw.rectangle((0, 0, 640, 360), fill=(200, 190, 170))
    draw.rectangle((0, 280, 640, 360), fill=(150, 110, 80))  # the kitchen floor
    draw.rectangle((420, 90, 520, 280), fill=(200, 30, 30), outline=(90, 20, 20), width=4)  # the red door
    draw.ellipse((500, 180, 512, 192), fill=(240, 200, 60))
    draw.ellipse((80, 290, 300, 340), fill=(40, 80, 200))  # the blue rug
    draw.rectangle((60, 150, 180, 270), fill=(230, 230, 230), outline=(90, 90, 90), width=3)  # a stove
    draw.ellipse((590, 40, 620, 70), fill=(255, 230, 120))  # the child's character
    draw.rectangle((598, 70, 612, 110), fill=(80, 120, 200))


def letter_bridge(draw: Draw) -> None:
    draw.rectangle((0, 0, 640, 360), fill=(160, 210, 240))
    draw.rectangle((0, 250, 640, 360), fill=(50, 110, 200))  # the river
    draw.rectangle((0, 200, 140, 250), fill=(110, 170, 80))
    draw.rectangle((500, 200, 640, 250), fill=(110, 170, 80))
    for number in range(3):
        x = 170 + number * 110
        draw.rectangle((x, 205, x + 90, 235), outline=(120, 80, 40), width=3)  # a missing plank
    for number, letter in enumerate("TCA"):
        x = 200 + number * 90
        draw.rectangle((x, 290, x + 60, 330), fill=(190, 140, 80))
        draw.text((x + 25, 303), letter, fill=(0, 0, 0))
    draw.ellipse((40, 60, 120, 140), fill=(240, 160, 60))  # the cat in the picture
    draw.polygon([(50, 75), (60, 40), (75, 70)], fill=(240, 160, 60))
    draw.polygon([(105, 70), (115, 40), (118, 78)], fill=(240, 160, 60))


def cloud(draw: Draw, x: int, y: int) -> None:
    for dx, r in ((0, 28), (30, 36), (64, 26)):
        draw.ellipse((x + dx - r, y - r, x + dx + r, y + r), fill=(255, 255, 255))


def cloud_jump(draw: Draw) -> None:
    draw.rectangle((0, 0, 640, 360), fill=(120, 180, 240))
    for number, colour in enumerate([(230, 60, 60), (240, 160, 40), (240, 230, 60), (60, 180, 80), (60, 90, 220)]):
        r = 200 - number * 14
        draw.arc((440, 160, 440 + 2 * r, 160 + 2 * r), 180, 270, fill=colour, width=12)  # the rainbow
    for x, y in ((60, 290), (210, 240), (390, 270), (520, 200)):
        cloud(draw, x, y)
    draw.ellipse((60, 235, 100, 275), fill=(245, 245, 245), outline=(120, 120, 120))  # the bunny
    draw.ellipse((66, 190, 78, 240), fill=(245, 245, 245), outline=(120, 120, 120))
    draw.ellipse((82, 190, 94, 240), fill=(245, 245, 245), outline=(120, 120, 120))


SCENES: dict[str, Callable[[Draw], None]] = {
    "counting-garden": counting_garden,
    "castle-red-door": castle_red_door,
    "letter-bridge": letter_bridge,
    "cloud-jump": cloud_jump,
}


def draw(slug: str) -> Image.Image:
    image = Image.new("RGB", SIZE)
    SCENES[slug](ImageDraw.Draw(image))
    return image


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for slug in SCENES:
        path = TARGET / f"{slug}.jpg"
        draw(slug).save(path, format="JPEG", quality=QUALITY, optimize=True)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
