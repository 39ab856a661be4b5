"""``python -m audio_chat.talk``: talk to the helper from a terminal with a WAV file as the microphone.

Creates a session (or joins one), streams the WAV in real time through the WebSocket, prints the captions,
and writes what the helper said to a 24 kHz WAV file. ``--codec opus`` sends and receives 20 ms Opus packets
instead of PCM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.request
import wave
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from voice.audio import float_to_pcm16, resample
from voice.audio_format import INPUT_RATE_HZ, OUTPUT_RATE_HZ
from voice.codecs import Codec, OpusDownlinkDecoder, OpusUplinkEncoder

FRAME_BYTES = 640  # 20 ms at 16 kHz
TRAILING_SILENCE_SECONDS = 1.0


def read_wav_as_16k_mono(path: Path) -> bytes:
    """Any PCM WAV (8/16/32-bit, any rate, any channels) as 16 kHz mono PCM16."""
    with wave.open(str(path)) as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
    dtype = {1: "u1", 2: "<i2", 4: "<i4"}.get(width)
    if dtype is None:
        raise SystemExit(f"{path}: {8 * width}-bit WAV is not supported; use 8, 16 or 32-bit PCM.")
    values = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    scaled = (values - 128) / 128 if width == 1 else values / float(2 ** (8 * width - 1))
    mono = scaled.reshape(-1, channels).mean(axis=1).astype(np.float32)
    return float_to_pcm16(resample(mono, rate, INPUT_RATE_HZ))


def create_session(base_url: str, api_key: str, level: str, age: int) -> dict[str, Any]:
    body = json.dumps({"level": level, "child_age": age}).encode()
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Api-Key {api_key}"
    if not base_url.startswith(("http://", "https://")):
        raise SystemExit(f"--base-url must be http:// or https://, not {base_url!r}")
    url = f"{base_url}/api/sessions/"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (scheme checked above)
        return dict(json.loads(response.read()))


async def stream(ws: ClientConnection, pcm: bytes, codec: Codec = Codec.PCM) -> None:
    """Send ``pcm`` in 20 ms frames at a microphone's pace: as it is, or as one Opus packet per frame."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    padded = pcm + bytes(int(TRAILING_SILENCE_SECONDS * INPUT_RATE_HZ) * 2)
    encoder = OpusUplinkEncoder() if codec is Codec.OPUS else None
    for number, start in enumerate(range(0, len(padded), FRAME_BYTES)):
        frame = padded[start : start + FRAME_BYTES]
        messages = [frame] if encoder is None else encoder.encode(frame) + encoder.flush()
        for message in messages:
            await ws.send(message)
        delay = started + (number + 1) * 0.02 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    await ws.send(json.dumps({"type": "audio_end"}))


async def talk(args: argparse.Namespace) -> int:
    base_url = args.base_url.rstrip("/")
    if args.session:
        session_id, token = args.session, args.token
    else:
        created = create_session(base_url, args.api_key, args.level, args.age)
        session_id, token = created["id"], created["client_token"]
        print(f"session {session_id}", file=sys.stderr)
    codec = Codec(args.codec)
    ws_url = base_url.replace("http", "ws", 1) + f"/ws/audio-chat/{session_id}/?token={token}&codec={codec.value}"
    reply = bytearray()
    received = 0
    async with connect(ws_url, compression=None, max_size=2**22, open_timeout=30) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if first.get("type") != "connection":
            print(f"unexpected first message: {first}", file=sys.stderr)
            return 1
        output_codec = first.get("audio_format", {}).get("output", {}).get("codec", "pcm")
        print(f"[{first['mode']} · {first['model']} · {output_codec}]")
        player = OpusDownlinkDecoder() if output_codec == Codec.OPUS else None
        sender = asyncio.create_task(
            stream(ws, read_wav_as_16k_mono(Path(args.wav)), codec)
            if args.wav
            else ws.send(json.dumps({"type": "text", "content": args.text}))
        )
        try:
            while True:
                frame = await asyncio.wait_for(ws.recv(), args.timeout)
                if isinstance(frame, bytes):
                    received += len(frame)
                    reply.extend(player.decode(frame) if player else frame)
                    continue
                message = json.loads(frame)
                kind = message["type"]
                if kind == "input_transcript" and message["final"]:
                    print(f"child:  {message['text']}")
                elif kind == "output_transcript":
                    print(f"helper: {message['text']}")
                elif kind == "response":
                    print(f"helper: {message['content']}")
                elif kind in ("status", "error", "interrupted"):
                    print(f"({kind}: {message.get('state') or message.get('message') or ''})")
                elif kind == "turn_complete":
                    break
        except TimeoutError:
            print("(no reply in time)", file=sys.stderr)
        finally:
            sender.cancel()
    if args.out:
        with wave.open(args.out, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(OUTPUT_RATE_HZ)
            out.writeframes(bytes(reply))
        seconds = len(reply) / 2 / OUTPUT_RATE_HZ
        print(f"wrote {seconds:.1f} s of the helper's voice to {args.out} ({received} bytes received)", file=sys.stderr)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m audio_chat.talk", description=__doc__)
    said = parser.add_mutually_exclusive_group(required=True)
    said.add_argument("--wav", help="a WAV file to use as the microphone")
    said.add_argument("--text", help="type this instead of speaking")
    parser.add_argument("--out", default="reply.wav", help="where to write the helper's voice (24 kHz WAV)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--api-key", default="", help="a game-backend API key (not needed in DEBUG before one exists)")
    parser.add_argument("--level", default="castle-red-door", help="level slug for a new session")
    parser.add_argument("--age", type=int, default=6, help="the child's age for a new session")
    parser.add_argument("--session", help="join this session instead of creating one (needs --token)")
    parser.add_argument("--token", default="", help="the session's client token")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each message")
    parser.add_argument(
        "--codec", choices=[codec.value for codec in Codec], default="pcm", help="the audio codec on the wire"
    )
    raise SystemExit(asyncio.run(talk(parser.parse_args())))


if __name__ == "__main__":
    main()
