"""Pictures for tests, drawn with Pillow: a screenshot with EXIF and GPS, a decompression bomb, not-an-image."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
ORIENTATION = 0x0112
ARTIST = 0x013B


def screenshot(size: tuple[int, int] = (1600, 900), *, fmt: str = "JPEG", exif: bool = True) -> bytes:
    """A game-like screen; with EXIF naming an artist and a GPS position when ``exif``."""
    image = Image.new("RGB", size, (90, 160, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 3, size[1] // 3, size[0] // 2, size[1] - 10), fill=(200, 30, 30))  # a red door
    output = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[ARTIST] = "Emma Johnson"
        tags.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
        image.save(output, format=fmt, exif=tags.tobytes())
    else:
        image.save(output, format=fmt)
    return output.getvalue()


def transparent_png(size: tuple[int, int] = (64, 64)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (decoding it would take gigabytes)."""
    small = io.BytesIO()
    Image.new("1", (8, 8)).save(small, format="PNG")
    data = bytearray(small.getvalue())
    ihdr_start = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr_start : ihdr_start + 8] = struct.pack(">II", width, height)
    body = bytes(data[ihdr_start - 4 : ihdr_start + 13])  # type + IHDR data
    data[ihdr_start + 13 : ihdr_start + 17] = struct.pack(">I", zlib.crc32(body))
    return bytes(data)


NOT_AN_IMAGE = b"%PDF-1.4 this is a document, not a picture\n" * 10
