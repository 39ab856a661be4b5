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
from collections.abc import Callable, Sequence

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


def run_batched(
    recognizer: whisper.WhisperRecognizer, clips: list[Clip], size: int
) -> tuple[list[tuple[str, str, str]], list[float]]:
    """Decoded ``size`` at a time, as the decoder pool batches finals that wait; each batch mixes questions
    (so lengths and windows), and its time is shared out among its clips."""
    groups = -(-len(clips) // size)
    results: dict[int, tuple[str, str, str]] = {}
    seconds = []
    for first in range(groups):
        numbers = list(range(first, len(clips), groups))
        started = time.perf_counter()
        heard = recognizer.transcribe_batch([clips[n].pcm for n in numbers])
        seconds += [(time.perf_counter() - started) / len(numbers)] * len(numbers)
        for n, transcript in zip(numbers, heard, strict=True):
            results[n] = (clips[n].label, clips[n].text, transcript.heard)
    return [results[n] for n in range(len(clips))], seconds


def wer_where(results: list[tuple[str, str, str]], keep: Callable[[str], bool]) -> str:
    chosen = [(text, heard) for label, text, heard in results if keep(label)]
    return f"{100 * word_error_rate(chosen):.0f} %" if chosen else "-"


def main(windows: list[float], batches: Sequence[int] = (1,), sphinx: bool = True) -> str:
    clips = child_test_set() + joe_clips()
    recognizer = whisper.WhisperRecognizer(threads=1)
    recognizer.transcribe(clips[0].pcm)
    rows = [
        "| recogniser | child-like, quiet | child-like, noisy | joe voice | all | compute per clip (median) |",
        "|---|---|---|---|---|---|",
    ]
    if sphinx:
        sphinx_transcribe(clips[0].pcm)
        rows.append(row("pocketsphinx 5.1.1", *run(sphinx_transcribe, clips)))
    default_window = whisper.MIN_WINDOW_SECONDS
    for window in windows:
        whisper.MIN_WINDOW_SECONDS = window
        for size in batches:
            name = f"Whisper tiny.en int8, window at least {window:g} s"
            if size == 1:
                rows.append(row(name, *run(lambda pcm: recognizer.transcribe(pcm).heard, clips)))
            else:
                rows.append(row(f"{name}, in batches of {size}", *run_batched(recognizer, clips, size)))
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
    parser.add_argument("--batches", default="1", help="also decode Whisper's clips this many at a time, e.g. 1,4")
    parser.add_argument("--skip-sphinx", action="store_true", help="Whisper only (pocketsphinx takes minutes)")
    args = parser.parse_args()
    print(
        main(
            [float(w) for w in args.windows.split(",")],
            [int(b) for b in args.batches.split(",")],
            sphinx=not args.skip_sphinx,
        )
    )
