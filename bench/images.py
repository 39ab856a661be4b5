"""``python -m bench.images``: how long checking and re-encoding a shared screenshot takes (``voice/images.py``).

Each picture is a drawn game screen (``tests/images.py``) of a common screen size and format, prepared
``--rounds`` times in this process; the table gives the median and the slowest time, and the sizes in and out.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tests.images import png_bomb, screenshot
from voice.images import ImageRejected, prepare_image

CASES = (((1280, 720), "JPEG"), ((1920, 1080), "JPEG"), ((1920, 1080), "PNG"), ((2560, 1600), "WEBP"),
         ((3840, 2160), "JPEG"), ((3840, 2160), "PNG"))  # fmt: skip


def section(rounds: int = 7) -> str:
    rows = [
        "## Shared screenshots: checking and re-encoding one picture",
        "",
        "`prepare_image` on one core: decode (JPEG at a reduced scale), strip, downscale to 1024 px, JPEG q80. "
        f"{rounds} rounds each. It runs in a worker thread, off the event loop.",
        "",
        "| picture | bytes in | bytes out | median ms | slowest ms |",
        "|---|---|---|---|---|",
    ]
    for size, fmt in CASES:
        data = screenshot(size, fmt=fmt)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            picture = prepare_image(data)
            times.append((time.perf_counter() - started) * 1000)
        rows.append(
            f"| {size[0]}x{size[1]} {fmt} | {len(data)} | {len(picture.data)} | "
            f"{statistics.median(times):.0f} | {max(times):.0f} |"
        )
    bomb = png_bomb()
    started = time.perf_counter()
    try:
        prepare_image(bomb)
    except ImageRejected:
        refused_ms = (time.perf_counter() - started) * 1000
    rows += ["", f"A {len(bomb)}-byte PNG claiming 30000x30000 pixels is refused in {refused_ms:.1f} ms."]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    print(section(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
