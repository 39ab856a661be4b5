"""Screenshots the game shares: decoded for real, bounded, stripped of metadata and re-encoded small (Pillow only).

The same checks run for the REST upload and the WebSocket ``image`` message: :class:`PictureDesk` takes raw bytes,
refuses what is not a picture or is too big (in bytes or in pixels: decompression bombs), and returns a
:class:`voice.context.Picture` — a fresh JPEG at most ``max_side`` pixels on its long side, without EXIF, GPS or
any other metadata — ready to be shown to a model. Keeping pictures on disk is opt-in.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from voice.context import Picture

ACCEPTED_FORMATS: Final = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OUTPUT_MIME_TYPE: Final = "image/jpeg"
KEPT_SUFFIX: Final = ".jpg"


class ImageRejected(Exception):
    """The upload cannot be used as a picture; ``message`` says why, in words a developer can act on."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


class ImageRateLimited(Exception):
    """The session shared pictures faster than its limit allows."""


@dataclass(frozen=True)
class ImageRules:
    max_bytes: int = 5 * 1024 * 1024  # the upload as sent (JPEG/PNG/WebP)
    max_pixels: int = 16_000_000  # width x height before decoding: a 4000x4000 screen at most
    max_side: int = 1024  # the long side sent to a model (Live recommends about 768x768; text models tile)
    jpeg_quality: int = 80


DEFAULT_RULES = ImageRules()


def decode_base64_image(content: str, max_bytes: int = DEFAULT_RULES.max_bytes) -> bytes:
    """Base64 (standard or URL-safe, padding optional, a ``data:`` URL prefix allowed) to bytes.

    Raises:
        ImageRejected: not base64, or more than ``max_bytes`` once decoded.
    """
    text = content.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) * 3 // 4 > max_bytes + 3:
        raise ImageRejected(f"The image is larger than {max_bytes} bytes.", too_large=True)
    normalized = text.replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        return base64.b64decode(normalized, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRejected("The image is not valid base64.") from None


def prepare_image(data: bytes, rules: ImageRules = DEFAULT_RULES) -> Picture:
    """Check and re-encode one upload; CPU work, so callers run it off the event loop.

    Raises:
        ImageRejected: empty, too large, not a JPEG/PNG/WebP, damaged, or too many pixels.
    """
    if not data:
        raise ImageRejected("The image is empty.")
    if len(data) > rules.max_bytes:
        raise ImageRejected(f"The image is {len(data)} bytes; the limit is {rules.max_bytes}.", too_large=True)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; every oversized image is refused here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS)) as opened:
                width, height = opened.size  # from the header: nothing is decoded yet
                if width * height > rules.max_pixels:
                    raise ImageRejected(
                        f"The image is {width}x{height} pixels; the limit is {rules.max_pixels} pixels.",
                        too_large=True,
                    )
                if opened.format == "JPEG":
                    # Decode at the smallest 1/2, 1/4 or 1/8 scale still at least max_side: a fraction of the work.
                    opened.draft("RGB", (rules.max_side, rules.max_side))
                opened.load()
                upright = ImageOps.exif_transpose(opened)  # keep the orientation the EXIF tag gave, then drop it
                picture = _flattened(upright)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("The image has too many pixels.", too_large=True) from None
    except UnidentifiedImageError:
        raise ImageRejected("The file is not a JPEG, PNG or WebP image.") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:  # Pillow's ways of saying the data is damaged
        raise ImageRejected(f"The image could not be decoded ({type(error).__name__}).") from None
    picture.thumbnail((rules.max_side, rules.max_side), Image.Resampling.LANCZOS)
    # Only the pixels go on: Pillow carries ``info`` (a JPEG comment, for one) through conversions into the saved
    # file, so the picture is rebuilt from its bytes and saved without exif/icc/comment arguments.
    clean = Image.frombytes("RGB", picture.size, picture.tobytes())
    output = io.BytesIO()
    clean.save(output, format="JPEG", quality=rules.jpeg_quality, optimize=True)
    return Picture(data=output.getvalue(), mime_type=OUTPUT_MIME_TYPE, width=clean.width, height=clean.height)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB pixels only: transparency is laid on white (as a game screen would show it), palettes expanded."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


class ImageAllowance(Protocol):
    """How many pictures a session may share; shared by every worker (the Django app keeps it in the cache)."""

    async def take(self) -> bool:
        """Count one picture; False when the session is over its limit."""
        ...


class PictureKeeper:
    """Opt-in keeping of shared pictures (like the audio archive): one JPEG per picture, named by session."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def keep(self, session_id: str, picture: Picture) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{session_id}-{time.time_ns()}{KEPT_SUFFIX}"
        path.write_bytes(picture.data)
        return path

    @staticmethod
    def kept(directory: Path, session_id: str) -> list[Path]:
        """Every picture kept for a session."""
        return sorted(directory.glob(f"{session_id}-*{KEPT_SUFFIX}"))


class PictureDesk:
    """Where a session's pictures come in, over REST or WebSocket alike: limited, checked, re-encoded, kept only
    when configured."""

    def __init__(
        self,
        session_id: str,
        *,
        allowance: ImageAllowance,
        rules: ImageRules = DEFAULT_RULES,
        keeper: PictureKeeper | None = None,
    ) -> None:
        self.session_id = session_id
        self.rules = rules
        self._allowance = allowance
        self._keeper = keeper

    async def accept(self, data: bytes) -> Picture:
        """Raises:
        ImageRateLimited: the session is over its picture limit (checked first: a flood costs no decoding).
        ImageRejected: as :func:`prepare_image`.
        """
        if len(data) > self.rules.max_bytes:
            raise ImageRejected(f"The image is {len(data)} bytes; the limit is {self.rules.max_bytes}.", too_large=True)
        if not await self._allowance.take():
            raise ImageRateLimited("Too many pictures: wait a little before sharing another one.")
        picture = await asyncio.to_thread(prepare_image, data, self.rules)
        if self._keeper is not None:
            await asyncio.to_thread(self._keeper.keep, self.session_id, picture)
        return picture
