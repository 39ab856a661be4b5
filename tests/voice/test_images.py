"""Shared pictures: really decoded, bounded, stripped of metadata, re-encoded small; limited and kept only opt-in."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from tests.images import ARTIST, GPS_IFD, NOT_AN_IMAGE, png_bomb, screenshot, transparent_png
from voice.images import (
    ImageRateLimited,
    ImageRejected,
    ImageRules,
    PictureDesk,
    PictureKeeper,
    decode_base64_image,
    prepare_image,
)


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_screenshot_is_downscaled_to_a_jpeg_without_exif_or_gps() -> None:
    original = screenshot((1600, 900))
    assert opened(original).getexif()[ARTIST] == "Emma Johnson"
    picture = prepare_image(original)
    result = opened(picture.data)
    assert result.format == "JPEG" and picture.mime_type == "image/jpeg"
    assert (picture.width, picture.height) == result.size == (1024, 576)
    assert len(result.getexif()) == 0
    assert not result.getexif().get_ifd(GPS_IFD)
    assert "exif" not in result.info and b"Emma" not in picture.data


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_comments_text_chunks_and_colour_profiles_are_not_carried_over(fmt: str) -> None:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    output = io.BytesIO()
    extra: dict[str, object] = {"icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()}
    if fmt == "JPEG":
        extra["comment"] = b"Emma Johnson"
    elif fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", "Emma Johnson")
        extra["pnginfo"] = info
    else:
        extra["xmp"] = b"<x:xmpmeta>Emma Johnson</x:xmpmeta>"
    image.save(output, format=fmt, **extra)
    assert b"Emma" in output.getvalue()
    picture = prepare_image(output.getvalue())
    assert b"Emma" not in picture.data
    assert "icc_profile" not in opened(picture.data).info


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(fmt: str) -> None:
    picture = prepare_image(screenshot((300, 200), fmt=fmt, exif=False))
    assert (picture.width, picture.height) == (300, 200)
    assert opened(picture.data).format == "JPEG"


def test_transparency_is_laid_on_white() -> None:
    picture = prepare_image(transparent_png())
    pixel = opened(picture.data).convert("RGB").getpixel((10, 10))
    assert isinstance(pixel, tuple) and min(pixel) >= 250


def test_a_file_that_is_not_an_image_is_refused() -> None:
    with pytest.raises(ImageRejected, match="not a JPEG, PNG or WebP") as refused:
        prepare_image(NOT_AN_IMAGE)
    assert not refused.value.too_large


def test_a_gif_is_refused_as_an_unsupported_format() -> None:
    output = io.BytesIO()
    Image.new("P", (4, 4)).save(output, format="GIF")
    with pytest.raises(ImageRejected, match="not a JPEG, PNG or WebP"):
        prepare_image(output.getvalue())


def test_a_truncated_jpeg_is_refused() -> None:
    with pytest.raises(ImageRejected, match="could not be decoded"):
        prepare_image(screenshot()[:2000])


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_bomb()
    assert len(bomb) < 200
    with pytest.raises(ImageRejected, match="pixels") as refused:
        prepare_image(bomb)
    assert refused.value.too_large


def test_an_upload_over_the_byte_limit_is_refused_before_decoding() -> None:
    with pytest.raises(ImageRejected, match="limit") as refused:
        prepare_image(b"\xff\xd8" + bytes(30 * 1024 * 1024))
    assert refused.value.too_large


def test_base64_in_either_alphabet_with_a_data_url_prefix_decodes() -> None:
    data = bytes(range(256))
    assert decode_base64_image(base64.urlsafe_b64encode(data).decode().rstrip("=")) == data
    assert decode_base64_image("data:image/png;base64," + base64.b64encode(data).decode()) == data


def test_wrong_base64_is_refused() -> None:
    with pytest.raises(ImageRejected, match="not valid base64"):
        decode_base64_image("this is *not* base64!")


def test_base64_of_more_than_the_limit_is_refused_before_decoding() -> None:
    with pytest.raises(ImageRejected) as refused:
        decode_base64_image("A" * 200, max_bytes=100)
    assert refused.value.too_large


class Allowance:
    def __init__(self, left: int) -> None:
        self.left = left

    async def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


async def test_a_keeper_keeps_the_reencoded_picture_under_the_session(tmp_path) -> None:
    desk = PictureDesk("s1", allowance=Allowance(5), keeper=PictureKeeper(tmp_path))
    picture = await desk.accept(screenshot((200, 100)))
    kept = PictureKeeper.kept(tmp_path, "s1")
    assert len(kept) == 1 and kept[0].read_bytes() == picture.data
    assert PictureKeeper.kept(tmp_path, "s2") == []


async def test_the_desk_refuses_over_the_session_rate_without_decoding(tmp_path) -> None:
    desk = PictureDesk("s1", allowance=Allowance(1), keeper=PictureKeeper(tmp_path))
    await desk.accept(screenshot((50, 50)))
    with pytest.raises(ImageRateLimited):
        await desk.accept(NOT_AN_IMAGE)  # not decoded: the limit comes first
    assert len(PictureKeeper.kept(tmp_path, "s1")) == 1


async def test_a_refused_picture_is_not_kept(tmp_path) -> None:
    desk = PictureDesk("s1", allowance=Allowance(5), keeper=PictureKeeper(tmp_path), rules=ImageRules())
    with pytest.raises(ImageRejected):
        await desk.accept(png_bomb())
    assert PictureKeeper.kept(tmp_path, "s1") == []
