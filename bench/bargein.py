"""Barge-in detector settings: false barge-ins on room noise and the helper's echo, and how fast real speech cuts in.

Run: ``.venv/bin/python -m bench.bargein``. The helper's reply and the children's questions are the bundled joe
voice (the questions as tests/speech.py makes them: 16 kHz, scaled 0.6); the echo is the reply 30 dB below its
own level, as a browser's echo canceller leaves it; room noise is white noise at the given level.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import numpy as np

from tests.speech import spoken_question
from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import INPUT_FRAME_BYTES, INPUT_RATE_HZ, OUTPUT_RATE_HZ
from voice.engines.live.bargein import BargeInDetector, BargeInSettings, frame_level_dbfs
from voice.speech.tts import load_voice

REPLY = (
    "Look for the little key under the blue rug. Then walk to the red door, and try the key in its lock. "
    "If it does not turn, look around the garden for another one."
)
QUESTIONS = ["How do I open the red door?", "I can't find the key.", "How do I make the bunny jump?", "Help me please."]
ECHO_DB = -30.0
NOISE_DBFS = {"quiet room (-60 dBFS)": -60.0, "noisy room (-45 dBFS)": -45.0}
SOFT_CHILD_DB = -10.0  # a child further from the microphone
AGGRESSIVENESS = (2, 3)
MIN_SPEECH_MS = (60, 100, 120, 160, 200)
MIN_LEVEL_DBFS = (-50.0, -45.0, -40.0, -35.0)
ROOM_SEEDS = 3  # noise draws per room for the false barge-in count
NOTES = """\
The child's questions (the bundled joe voice, as tests/speech.py makes them) are mixed 1 s into the helper's
reply as its echo: the reply, also the joe voice, 30 dB below its own level, as a browser's echo canceller
leaves it, over white room noise. The detector runs as the bridge runs it while the helper plays (every
frame examined); a barge-in on echo and noise alone is a false one. "Speech onset" is the first 20 ms frame
of the question within 25 dB of its loudest frame, so a question that starts with a breathy consonant
counts from before its first voiced frame. Chosen defaults: mode 3, 120 ms, -40 dBFS (no false barge-in,
every question caught, also 10 dB softer, median 120 ms after the onset)."""


def level(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-20))


async def helper_echo() -> np.ndarray:
    voice = load_voice("joe")
    speech = b"".join([sentence.pcm async for sentence in voice.synthesize(REPLY)])
    reply = resample(pcm16_to_float(speech), OUTPUT_RATE_HZ, INPUT_RATE_HZ)
    return np.asarray(reply * 10 ** (ECHO_DB / 20), dtype=np.float32)


def noise(samples: int, dbfs: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 10 ** (dbfs / 20), samples).astype(np.float32)


def first_fire(settings: BargeInSettings, pcm: bytes) -> float | None:
    """Seconds into ``pcm`` at which the detector fires (playing throughout), or None."""
    detector = BargeInDetector(settings)
    for number, start in enumerate(range(0, len(pcm), INPUT_FRAME_BYTES)):
        if detector.feed(pcm[start : start + INPUT_FRAME_BYTES], helper_playing=True):
            return (number + 1) * 0.02
    return None


def speech_onset(child: np.ndarray) -> float:
    """When the child's speech starts: the first 20 ms frame within 25 dB of its loudest frame."""
    frames = child[: child.size // 320 * 320].reshape(-1, 320)
    levels = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    return float(np.argmax(levels > levels.max() - 25) * 0.02)


async def main() -> str:
    echo = await helper_echo()
    children = [
        pcm16_to_float(await spoken_question(q, lead_seconds=0.0, tail_seconds=0.0, seed=s))
        for s, q in enumerate(QUESTIONS)
    ]
    lines = [
        f"Helper reply level {level(echo) - ECHO_DB:.1f} dBFS, its echo {level(echo):.1f} dBFS; "
        f"children's questions {statistics.mean(level(c) for c in children):.1f} dBFS "
        f"(soft: {SOFT_CHILD_DB:+.0f} dB).",
        "",
        "| VAD mode | min speech | level floor | false barge-ins (echo + noise, both rooms, 3 draws each) "
        "| detected (normal / soft child) | speech onset → barge-in: median | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for aggressiveness, min_speech, floor in itertools.product(AGGRESSIVENESS, MIN_SPEECH_MS, MIN_LEVEL_DBFS):
        settings = BargeInSettings(aggressiveness=aggressiveness, min_speech_ms=min_speech, min_level_dbfs=floor)
        false, trials, delays, detected, soft_detected = 0, 0, [], 0, 0
        for seed, room in enumerate(NOISE_DBFS.values()):
            for extra_seed in range(ROOM_SEEDS):
                quiet = echo + noise(echo.size, room, 100 + seed * ROOM_SEEDS + extra_seed)
                trials += 1
                false += first_fire(settings, float_to_pcm16(quiet)) is not None
            background = echo + noise(echo.size, room, seed)
            for child in children:
                for gain_db in (0.0, SOFT_CHILD_DB):
                    start = int(1.0 * INPUT_RATE_HZ)
                    mixed = background.copy()
                    mixed[start : start + child.size] += child * 10 ** (gain_db / 20)
                    fired = first_fire(settings, float_to_pcm16(mixed[: start + child.size]))
                    onset = 1.0 + speech_onset(child)
                    hit = fired is not None and fired > onset - 0.02
                    if gain_db == 0.0:
                        detected += hit
                        if hit and fired is not None:
                            delays.append((fired - onset) * 1000)
                    else:
                        soft_detected += hit
        total = len(children) * len(NOISE_DBFS)
        median = f"{statistics.median(delays):.0f} ms" if delays else "-"
        worst = f"{max(delays):.0f} ms" if delays else "-"
        lines.append(
            f"| {aggressiveness} | {min_speech} ms | {floor:.0f} dBFS | {false}/{trials} "
            f"| {detected}/{total} / {soft_detected}/{total} | {median} | {worst} |"
        )
    lines += ["", cost_line(echo)]
    return "\n".join(lines)


def cost_line(echo: np.ndarray) -> str:
    """What one 20 ms frame costs while the helper plays: a quiet frame and a loud (speech) frame."""
    quiet = float_to_pcm16(noise(320, -60.0, 1))
    loud = float_to_pcm16(np.clip(echo[16000:16320] * 10 ** (-ECHO_DB / 20), -1, 1))
    detector = BargeInDetector(BargeInSettings(min_speech_ms=10_000))
    costs = []
    for frame in (quiet, loud):
        started = time.perf_counter()
        for _ in range(5000):
            detector.feed(frame, helper_playing=True)
        costs.append((time.perf_counter() - started) / 5000 * 1e6)
    return (
        f"Cost per 20 ms frame while the helper plays: {costs[0]:.1f} µs for room noise (webrtcvad only), "
        f"{costs[1]:.1f} µs for speech (webrtcvad + level at {frame_level_dbfs(loud):.0f} dBFS); "
        "nothing while it does not play."
    )


async def section() -> str:
    """The report's section (``python -m bench`` puts it in docs/benchmarks.md)."""
    command = "python -m bench.bargein"
    return "\n".join(
        ["## Live barge-in: the bridge's own detection of the child over the helper", "", f"`{command}`", "", NOTES,
         "", await main()]
    )  # fmt: skip


if __name__ == "__main__":
    print(asyncio.run(section()))
