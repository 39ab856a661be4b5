"""Speech recognition on child-like speech: word error rate and compute time, Whisper next to pocketsphinx.

Run: ``.venv/bin/python -m bench.stt_accuracy`` (prints a Markdown section for docs/benchmarks.md). The clips
come from bench/child_speech.py (espeak-ng voices at high pitch, several speeds, a quiet and a noisy room)
plus the joe voice's questions as a cleaner reference. Both recognisers run in this process on one thread,
side by side on the same clips, so their times compare even on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from bench.child_speech import NOISE_DBFS, QUESTIONS, Clip, child_test_set, word_error_rate
from bench.sphinx import sphinx_transcribe
from tests.speech import spoken_question
from voice.speech import whisper


def joe_clips() -> list[Clip]:
    async def make() -> list[Clip]:
        return [Clip(q, "joe", await spoken_question(q, lead_seconds=0.3, tail_seconds=0.4)) for q in QUESTIONS]

    return asyncio.run(make())


def run(recognise: Callable[[bytes], str], clips: list[Clip]) -> tuple[list[tuple[str, str, str]], list[float]]:
    results, seconds = [], []
    for clip in clips:
        started = time.perf_counter()
        heard = recognise(clip.pcm)
        seconds.append(time.perf_counter() - started)
        results.append((clip.label, clip.text, heard))
    return results, seconds


def wer_where(results: list[tuple[str, str, str]], keep: Callable[[str], bool]) -> str:
    chosen = [(text, heard) for label, text, heard in results if keep(label)]
    return f"{100 * word_error_rate(chosen):.0f} %" if chosen else "-"


def main(windows: list[float]) -> str:
    clips = child_test_set() + joe_clips()
    recognizer = whisper.WhisperRecognizer(threads=1)
    recognizer.transcribe(clips[0].pcm)
    sphinx_transcribe(clips[0].pcm)
    rows = [
        "| recogniser | child-like, quiet | child-like, noisy | joe voice | all | compute per clip (median) |",
        "|---|---|---|---|---|---|",
        row("pocketsphinx 5.1.1", *run(sphinx_transcribe, clips)),
    ]
    default_window = whisper.MIN_WINDOW_SECONDS
    for window in windows:
        whisper.MIN_WINDOW_SECONDS = window
        results = run(lambda pcm: recognizer.transcribe(pcm).heard, clips)
        rows.append(row(f"Whisper tiny.en int8, window at least {window:g} s", *results))
    whisper.MIN_WINDOW_SECONDS = default_window
    quiet, noisy = NOISE_DBFS
    return "\n".join(
        [
            f"{len(clips)} clips: {len(QUESTIONS)} questions, 5 espeak-ng voices (pitch 75-95, 130-175 words a "
            f"minute), rooms at {quiet:g} and {noisy:g} dBFS of noise; plus the joe voice's {len(QUESTIONS)}.",
            "",
            *rows,
        ]
    )


def row(name: str, results: list[tuple[str, str, str]], seconds: list[float]) -> str:
    quiet, noisy = (f"{level:g}dBFS" for level in NOISE_DBFS)
    return " | ".join(
        [
            f"| {name}",
            wer_where(results, lambda label: label.endswith(quiet)),
            wer_where(results, lambda label: label.endswith(noisy)),
            wer_where(results, lambda label: label == "joe"),
            wer_where(results, lambda label: True),
            f"{statistics.median(seconds) * 1000:.0f} ms |",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", default="4,30", help="Whisper's shortest encoder windows to compare, seconds")
    args = parser.parse_args()
    print(main([float(w) for w in args.windows.split(",")]))
