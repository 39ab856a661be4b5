"""``python -m gemini_emulator``: run the Gemini Live emulator and print how to point a client at it."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from collections.abc import Callable

from gemini_emulator.responders import EngineResponder, Responder, ScriptedResponder
from gemini_emulator.server import DEFAULT_MODELS, GeminiLiveEmulator


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gemini_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--api-key", default="emulator-key", help="the key clients must send")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated model ids it serves")
    parser.add_argument("--lifetime", type=float, default=600.0, help="connection lifetime in seconds")
    parser.add_argument(
        "--realtime-factor", type=float, default=4.0, help="how much faster than real time replies are generated"
    )
    parser.add_argument(
        "--stale-handle-close-code",
        type=int,
        choices=[1007, 1008],
        default=1007,
        help="the close code a setup resuming with an unknown or forgotten handle gets",
    )
    parser.add_argument(
        "--responder",
        choices=["scripted", "engine", "tone"],
        default="engine",
        help="engine: hears and answers with the offline engine; scripted: echoes, voiced with the offline voice; "
        "tone: echoes, voiced as a labelled tone (fastest)",
    )
    return parser.parse_args()


async def main() -> None:
    args = parse_args()
    responders: dict[str, Callable[[], Responder]] = {
        "engine": EngineResponder,
        "scripted": lambda: ScriptedResponder(voice="joe"),
        "tone": ScriptedResponder,
    }
    responder = responders[args.responder]()
    emulator = GeminiLiveEmulator(
        responder=responder,
        api_key=args.api_key,
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        lifetime=args.lifetime,
        realtime_factor=args.realtime_factor,
        stale_handle_close_code=args.stale_handle_close_code,
        port=args.port,
    )
    async with emulator:
        print(
            json.dumps({"base_url": emulator.base_url, "ca_file": str(emulator.ca_file), "api_key": emulator.api_key})
        )
        print(
            f"Gemini Live emulator on {emulator.base_url}\n"
            f"  GEMINI_BASE_URL={emulator.base_url} GEMINI_API_KEY={emulator.api_key} "
            f"GEMINI_CA_FILE={emulator.ca_file}",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
