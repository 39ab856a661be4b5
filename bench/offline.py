"""Offline engine benchmark: end of speech → first reply audio, and how many children can talk at once.

Run: ``.venv/bin/python -m bench.offline`` (``make bench-offline``). Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path

from tests.speech import FRAME_BYTES, spoken_question
from tests.voice.fakes import MemoryStore
from voice.brains.offline import OfflineHintBrain, authored_replies
from voice.context import ConversationContext, Hint, LevelContext
from voice.conversation import Conversation
from voice.engines.base import running
from voice.engines.spoken import SpokenChat
from voice.speech.embeddings import shared_embedder
from voice.speech.stt import StreamingTranscriber, default_workers, shared_decoder_pool
from voice.speech.tts import load_voice
from voice.speech.vad import VadSettings

CATALOG = json.loads((Path(__file__).parents[1] / "audio_chat" / "fixtures" / "demo_levels.json").read_text())
QUESTIONS = [
    ("castle-red-door", "How do I open the red door?"),
    ("castle-red-door", "I can't find the key."),
    ("cloud-jump", "How do I make the bunny jump?"),
    ("letter-bridge", "How do I move the letters?"),
]
TAIL_SECONDS = 1.0
REAL_TIME_RATIO = 1.5


def context_for(slug: str) -> ConversationContext:
    level = next(entry for entry in CATALOG if entry["slug"] == slug)
    hints = tuple(
        Hint(h["topic"], h["steps"][0], tuple(h["examples"]), more_steps=tuple(h["steps"][1:])) for h in level["hints"]
    )
    return ConversationContext(slug, 6, LevelContext(level["title"], level["description"], hints))


async def one_turn(slug: str, pcm: bytes, *, workers: int, hangover_ms: int) -> float:
    """Seconds from the end of the spoken question to the first reply audio."""
    loop = asyncio.get_running_loop()
    first_audio: asyncio.Future[float] = loop.create_future()

    async def send_audio(_: bytes) -> None:
        if not first_audio.done():
            first_audio.set_result(loop.time())

    async def send_json(_: dict[str, object]) -> None:
        pass

    context = context_for(slug)
    conversation = Conversation(context=context, store=MemoryStore(), brain=OfflineHintBrain())
    chat = SpokenChat(
        conversation=conversation,
        send_json=send_json,
        send_audio=send_audio,
        transcriber=StreamingTranscriber(shared_decoder_pool(workers)),
        voice=load_voice("joe"),
        vad=VadSettings(hangover_ms=hangover_ms),
        say_ahead=authored_replies(context.level),  # as the service does (audio_chat.realtime)
    )
    started = loop.time()
    async with running(chat):
        for number, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
            await chat.audio(pcm[start : start + FRAME_BYTES])
            delay = started + (number + 1) * 0.02 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        speech_end = started + len(pcm) / 32_000 - TAIL_SECONDS
        return await asyncio.wait_for(first_audio, 30) - speech_end


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def main(rounds: int, talkers: list[int], hangovers: list[int], workers: int) -> str:
    shared_embedder().encode(["warm up"])
    audio = [
        (slug, await spoken_question(q, tail_seconds=TAIL_SECONDS, seed=i)) for i, (slug, q) in enumerate(QUESTIONS)
    ]
    shared_decoder_pool(workers).start()  # every recognition worker loaded before measuring
    await one_turn(audio[0][0], audio[0][1], workers=workers, hangover_ms=300)  # and every other model
    for slug in dict(QUESTIONS):  # a level's replies are made ahead while its first chat is open; done here
        await load_voice("joe").prepare(authored_replies(context_for(slug).level))
    lines = [
        "| VAD hangover | turns | end of speech → first reply audio: median | p95 | max |",
        "|---|---|---|---|---|",
    ]
    solo_median = 0.0
    for hangover in hangovers:
        latencies = [
            await one_turn(slug, pcm, workers=workers, hangover_ms=hangover)
            for _ in range(rounds)
            for slug, pcm in audio
        ]
        median = statistics.median(latencies)
        if hangover == 300:
            solo_median = median
        p95 = percentile(latencies, 0.95)
        lines.append(f"| {hangover} ms | {len(latencies)} | {ms(median)} | {ms(p95)} | {ms(max(latencies))} |")
    lines += [
        "",
        "| children talking at once | median | p95 | max | ratio of p95 to one child's median | final decodes "
        "(batch size: how many) |",
        "|---|---|---|---|---|---|",
    ]
    in_real_time = 0
    pool = shared_decoder_pool(workers)
    for count in talkers:
        pool.batch_sizes.clear()
        turns = [audio[i % len(audio)] for i in range(count)]
        together = list(await asyncio.gather(*(one_turn(s, pcm, workers=workers, hangover_ms=300) for s, pcm in turns)))
        p95 = percentile(together, 0.95)
        median = statistics.median(together)
        batches = ", ".join(f"{size}: {n}" for size, n in sorted(pool.batch_sizes.items()))
        lines.append(
            f"| {count} | {ms(median)} | {ms(p95)} | {ms(max(together))} | {p95 / solo_median:.2f} | {batches} |"
        )
        if p95 <= REAL_TIME_RATIO * solo_median:
            in_real_time = max(in_real_time, count)
    cores = os.cpu_count() or 1
    lines += [
        "",
        f"Children who end their questions at the same moment and are still answered in real time (p95 within "
        f"{REAL_TIME_RATIO:g} times one child's median): **{in_real_time}** on {cores} cores, "
        f"{in_real_time / cores:g} per core.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--talkers", default="1,2,4,8,12,16")
    parser.add_argument("--hangovers", default="300,200")
    parser.add_argument("--workers", type=int, default=default_workers(), help="recognition worker processes")
    args = parser.parse_args()
    started = time.perf_counter()
    report = asyncio.run(
        main(
            args.rounds,
            [int(n) for n in args.talkers.split(",")],
            [int(h) for h in args.hangovers.split(",")],
            args.workers,
        )
    )
    print(report)
    print(f"\n(ran in {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores)")
