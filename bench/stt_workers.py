"""Recognition capacity: Whisper in worker processes against threads sharing one CTranslate2 model.

Run: ``.venv/bin/python -m bench.stt_workers``. Several children finish a question at the same moment; the
figure is how long until each has its final transcript. Both variants run in the same run, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from tests.speech import spoken_question
from voice.speech.stt import DecoderPool, default_workers
from voice.speech.whisper import WhisperRecognizer


async def in_processes(pcm: bytes, children: int, workers: int) -> list[float]:
    pool = DecoderPool(workers)
    pool.start()
    try:
        started = time.perf_counter()

        async def one() -> float:
            await pool.transcribe(pcm)
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one() for _ in range(children))))
    finally:
        pool.close()


async def in_threads(pcm: bytes, children: int, workers: int) -> list[float]:
    recognizer = WhisperRecognizer(threads=1, parallel=workers)
    recognizer.transcribe(pcm)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(workers) as threads:
        started = time.perf_counter()

        async def one() -> float:
            await loop.run_in_executor(threads, recognizer.transcribe, pcm)
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one() for _ in range(children))))


async def main(children: list[int], workers: int) -> str:
    pcm = await spoken_question("How do I open the red door?", lead_seconds=0.3, tail_seconds=0.3)
    lines = [
        f"{workers} workers; a {len(pcm) / 32000:.1f} s question, every child finishing at the same moment.",
        "",
        "| children | variant | median until the final transcript | max |",
        "|---|---|---|---|",
    ]
    for count in children:
        for name, variant in (("worker processes", in_processes), ("threads, one model", in_threads)):
            done = await variant(pcm, count, workers)
            lines.append(f"| {count} | {name} | {statistics.median(done) * 1000:.0f} ms | {max(done) * 1000:.0f} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", default="1,4,8")
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    print(asyncio.run(main([int(n) for n in args.children.split(",")], args.workers)))
