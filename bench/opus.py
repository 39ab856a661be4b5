"""Opus on the wire against PCM: bytes per session-second each way, the codec's cost and delay per frame, the
service's CPU per session-second at N clients, and whether the offline recogniser still understands the speech.

    python -m bench.opus                      # everything (the service runs take a few minutes)
    python -m bench.opus --clients 10,20      # the service at these N
    python -m bench.opus --clients ""         # only the codec figures (no service)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.relay import Figures, Variant, client_audio, measure, prepare_database
from tests.speech import spoken_question
from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import INPUT_RATE_HZ, OUTPUT_RATE_HZ
from voice.codecs import (
    DEFAULT_OPUS_BITRATE,
    DEFAULT_OPUS_COMPLEXITY,
    OpusDownlinkDecoder,
    OpusDownlinkEncoder,
    OpusUplinkDecoder,
    OpusUplinkEncoder,
)
from voice.speech.stt import shared_decoder_pool, transcribe
from voice.speech.tts import load_voice

ROOT = Path(__file__).resolve().parents[1]
CATALOG = json.loads((ROOT / "audio_chat" / "fixtures" / "demo_levels.json").read_text())
QUESTIONS = [example for level in CATALOG for hint in level["hints"] for example in hint["examples"][:1]][:10]
BITRATES = (16_000, 24_000, 32_000)
COMPLEXITIES = (1, 3, 5, 10)


def word_accuracy(reference: str, heard: str) -> float:
    """1 - word error rate (substitutions, deletions and insertions over the reference's words), at least 0."""
    said = _words(reference)
    got = _words(heard)
    row = list(range(len(got) + 1))
    for i, word in enumerate(said, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(got, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return max(0.0, 1 - row[-1] / max(1, len(said)))


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c in " '" else " " for c in text.lower()).split()


def opus_round_trip_24k(pcm: bytes, bitrate: int, complexity: int = DEFAULT_OPUS_COMPLEXITY) -> tuple[bytes, int]:
    """The helper's 24 kHz voice as the client hears it through Opus, and the bytes that crossed the wire."""
    encoder = OpusDownlinkEncoder(bitrate=bitrate, complexity=complexity)
    packets = encoder.encode(pcm) + encoder.flush()
    decoder = OpusDownlinkDecoder()
    return b"".join(decoder.decode(packet) for packet in packets), sum(map(len, packets))


def opus_round_trip_16k(pcm: bytes, bitrate: int) -> tuple[bytes, int]:
    """The child's 16 kHz voice as the service hears it through Opus, and the bytes that crossed the wire."""
    packets = OpusUplinkEncoder(bitrate=bitrate).encode(pcm)
    decoder = OpusUplinkDecoder()
    return b"".join(decoder.decode(packet) for packet in packets), sum(map(len, packets))


def to_16k(pcm24: bytes) -> bytes:
    return float_to_pcm16(resample(pcm16_to_float(pcm24), OUTPUT_RATE_HZ, INPUT_RATE_HZ))


async def helper_replies() -> list[tuple[str, bytes]]:
    """The demo levels' hints in the offline voice (24 kHz), as the helper says them."""
    voice = load_voice("joe")
    texts = [hint["text"] for level in CATALOG for hint in level["hints"]][:8]
    return [(text, b"".join([s.pcm async for s in voice.synthesize(text)])) for text in texts]


async def quality_and_bytes() -> list[str]:
    pool = shared_decoder_pool(1)
    replies = await helper_replies()
    questions = [(q, await spoken_question(q, seed=n)) for n, q in enumerate(QUESTIONS)]
    reply_seconds = sum(len(pcm) for _, pcm in replies) / 2 / OUTPUT_RATE_HZ
    question_seconds = sum(len(pcm) for _, pcm in questions) / 2 / INPUT_RATE_HZ

    lines = [
        "| direction | codec | kbit/s on the wire | bytes per session-second | vs PCM | recogniser word accuracy |",
        "|---|---|---|---|---|---|",
    ]

    async def accuracy(pairs: Sequence[tuple[str, bytes]]) -> float:
        scores = [word_accuracy(text, await transcribe(pool, pcm)) for text, pcm in pairs]
        return statistics.mean(scores)

    pcm_down = 2 * OUTPUT_RATE_HZ
    original = await accuracy([(text, to_16k(pcm)) for text, pcm in replies])
    lines.append(f"| down (helper, 24 kHz) | PCM16 | {pcm_down * 8 / 1000:.0f} | {pcm_down} | 1 | {original:.3f} |")
    settings = [(bitrate, DEFAULT_OPUS_COMPLEXITY) for bitrate in BITRATES]
    settings += [
        (DEFAULT_OPUS_BITRATE, complexity) for complexity in COMPLEXITIES if complexity != DEFAULT_OPUS_COMPLEXITY
    ]
    for bitrate, complexity in settings:
        decoded: list[tuple[str, bytes]] = []
        wire = 0
        for text, pcm in replies:
            heard, size = opus_round_trip_24k(pcm, bitrate, complexity)
            decoded.append((text, to_16k(heard)))
            wire += size
        per_second = wire / reply_seconds
        score = await accuracy(decoded)
        lines.append(
            f"| down (helper, 24 kHz) | Opus {bitrate // 1000}k VOIP, complexity {complexity} | "
            f"{per_second * 8 / 1000:.1f} | {per_second:.0f} | {per_second / pcm_down:.3f} | {score:.3f} |"
        )
    pcm_up = 2 * INPUT_RATE_HZ
    original = await accuracy(questions)
    lines.append(f"| up (child, 16 kHz) | PCM16 | {pcm_up * 8 / 1000:.0f} | {pcm_up} | 1 | {original:.3f} |")
    for bitrate in BITRATES:
        decoded = []
        wire = 0
        for text, pcm in questions:
            heard, size = opus_round_trip_16k(pcm, bitrate)
            decoded.append((text, heard))
            wire += size
        per_second = wire / question_seconds
        score = await accuracy(decoded)
        lines.append(
            f"| up (child, 16 kHz) | Opus {bitrate // 1000}k VOIP | {per_second * 8 / 1000:.1f} | "
            f"{per_second:.0f} | {per_second / pcm_up:.3f} | {score:.3f} |"
        )
    lines += [
        "",
        f"Same speech both ways: {len(replies)} hints of the demo levels in the offline voice ({reply_seconds:.1f} s) "
        f"down, {len(questions)} synthesised children's questions with their lead and tail silence "
        f"({question_seconds:.1f} s) up. Word accuracy is 1 - word error rate of the offline recogniser "
        "(pocketsphinx) against the text that was spoken; the helper's voice is resampled to 16 kHz for it.",
    ]
    return lines


async def codec_cost() -> list[str]:
    """CPU per 20 ms frame of each side, on the same speech as above."""
    speech24 = b"".join(pcm for _, pcm in await helper_replies())
    speech16 = b"".join([await spoken_question(q, seed=n) for n, q in enumerate(QUESTIONS)])
    lines = ["| step | complexity | µs per 20 ms frame (median of 5 runs over the speech) |", "|---|---|---|"]
    for complexity in COMPLEXITIES:
        timings = []
        for _ in range(5):
            encoder = OpusDownlinkEncoder(bitrate=DEFAULT_OPUS_BITRATE, complexity=complexity)
            started = time.perf_counter()
            packets = encoder.encode(speech24)
            timings.append((time.perf_counter() - started) / len(packets) * 1e6)
        lines.append(f"| encode the helper's 24 kHz voice | {complexity} | {statistics.median(timings):.0f} |")
    packets = OpusUplinkEncoder().encode(speech16)
    timings = []
    for _ in range(5):
        decoder = OpusUplinkDecoder()
        started = time.perf_counter()
        for packet in packets:
            decoder.decode(packet)
        timings.append((time.perf_counter() - started) / len(packets) * 1e6)
    lines.append(f"| decode the child's packet to 16 kHz | - | {statistics.median(timings):.0f} |")
    return lines


def measured_delay_ms(pcm: bytes, decoded: bytes, rate: int) -> float:
    """How much later the decoded audio is than the original: the lag of the best cross-correlation."""
    a = np.frombuffer(pcm, "<i2").astype(np.float64)
    b = np.frombuffer(decoded, "<i2").astype(np.float64)[: len(a)]
    size = 1 << int(np.ceil(np.log2(2 * len(a))))
    scores = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lag = int(np.argmax(scores[: len(a) // 2]))
    return lag / rate * 1000


async def codec_delay() -> list[str]:
    """The codec's own delay, measured on speech: where the decoded speech lines up with what was encoded."""
    _, reply = (await helper_replies())[0]
    down, _ = opus_round_trip_24k(reply, DEFAULT_OPUS_BITRATE)
    question = await spoken_question(QUESTIONS[0])
    up, _ = opus_round_trip_16k(question, DEFAULT_OPUS_BITRATE)
    return [
        "| direction | delay of the decoded speech, ms |",
        "|---|---|",
        f"| down (24 kHz) | {measured_delay_ms(reply, down, OUTPUT_RATE_HZ):.1f} |",
        f"| up (16 kHz) | {measured_delay_ms(question, up, INPUT_RATE_HZ):.1f} |",
    ]


async def service_cpu(
    clients: list[int], seconds: float, realtime_factor: float, rounds: int
) -> tuple[list[str], list[Figures]]:
    """The service's own CPU per session-second with PCM and with Opus clients, one after the other (their order
    alternates each round): the median of the rounds, and every round's figure."""
    workdir = Path(tempfile.mkdtemp(prefix="opus-bench-"))
    frames = await client_audio(None)
    templates = {ROOT: await asyncio.to_thread(prepare_database, ROOT, workdir)}
    variants = [Variant("service, PCM", "service"), Variant("service, Opus", "service", codec="opus")]
    figures: list[Figures] = []
    for round_number in range(rounds):
        for n in clients:
            for variant in variants if round_number % 2 == 0 else variants[::-1]:
                result = await measure(variant, n, seconds, frames, templates, workdir, realtime_factor)
                figures.append(result)
                failures = f" failures {len(result.failures)}: {result.failures[0]}" if result.failures else ""
                cpu = result.cpu_ms_per_session_second
                print(f"N={n} {variant.name}: {cpu} ms/s{failures}", file=sys.stderr, flush=True)
    lines = [
        "| N | PCM: server CPU ms per session-second, median (rounds) | Opus: the same | Opus - PCM (medians) | "
        "failures |",
        "|---|---|---|---|---|",
    ]
    for n in clients:
        pcm, opus = ([f for f in figures if f.clients == n and f.variant == v.name] for v in variants)
        a, b = ([f.cpu_ms_per_session_second or 0.0 for f in runs] for runs in (pcm, opus))
        failed = sum(len(f.failures) for f in pcm + opus)
        lines.append(
            f"| {n} | {statistics.median(a):.1f} ({', '.join(f'{v:.1f}' for v in a)}) | "
            f"{statistics.median(b):.1f} ({', '.join(f'{v:.1f}' for v in b)}) | "
            f"{statistics.median(b) - statistics.median(a):+.1f} | {failed} |"
        )
    return lines, figures


async def main(options: argparse.Namespace) -> str:
    out = ["## Opus on the wire"]
    if not options.service_only:
        out += ["", "### Bytes and speech quality, PCM against Opus", "", *(await quality_and_bytes())]
        out += ["", "### The codec's cost per frame (one core of this machine)", "", *(await codec_cost())]
        lookahead = OpusDownlinkEncoder().lookahead_samples
        out += ["", "### The codec's delay", "", *(await codec_delay())]
        out += ["", f"libopus reports a lookahead of {lookahead} samples at 24 kHz ({lookahead / 24:.1f} ms)."]
    clients = [int(n) for n in options.clients.split(",") if n]
    if clients:
        lines, _ = await service_cpu(clients, options.seconds, options.realtime_factor, options.rounds)
        out += ["", "### The service's CPU per session-second, PCM against Opus", "", *lines]
    return "\n".join(out)


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.opus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="10,50", help="comma-separated N for the service runs ('' for none)")
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window of each service run")
    parser.add_argument("--realtime-factor", type=float, default=4.0, help="how fast the emulator generates replies")
    parser.add_argument("--service-only", action="store_true", help="only the service runs")
    parser.add_argument("--rounds", type=int, default=3, help="service runs of each codec at each N")
    return parser.parse_args(argv)


if __name__ == "__main__":
    report: Any = asyncio.run(main(parse_options()))
    print(report)
