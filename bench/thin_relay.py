"""The thinnest bridge on the same SDK, the relay benchmark's baseline: nothing but frames relayed both ways.

A bare ``websockets`` server: binary frames from a client go to ``send_realtime_input``, audio from ``receive()``
comes back as binary frames. No authentication, storage, transcripts, limits or recovery. It asks Gemini for the
same session features as the service (transcripts both ways), so both relays carry the same upstream traffic.

Run by ``bench.relay``: ``python -m bench.thin_relay --port P --base-url URL --ca-file F --api-key K --model M``;
prints ``ready`` once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl

import uvloop
from google import genai
from google.genai import types
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

CONFIG = types.LiveConnectConfig(
    response_modalities=[types.Modality.AUDIO],
    input_audio_transcription=types.AudioTranscriptionConfig(),
    output_audio_transcription=types.AudioTranscriptionConfig(),
)
UPSTREAM_SOCKET = {"compression": None, "ping_interval": 20.0, "ping_timeout": None}


def make_client(base_url: str, ca_file: str, api_key: str) -> genai.Client:
    context = ssl.create_default_context(cafile=ca_file)
    options = types.HttpOptions(base_url=base_url, async_client_args={"ssl": context, **UPSTREAM_SOCKET})
    return genai.Client(api_key=api_key, http_options=options)


async def relay(client_socket: ServerConnection, client: genai.Client, model: str) -> None:
    async with client.aio.live.connect(model=model, config=CONFIG) as session:
        await client_socket.send(json.dumps({"type": "ready"}))

        async def downlink() -> None:
            while True:
                async for message in session.receive():
                    if message.data:
                        await client_socket.send(message.data)

        replies = asyncio.create_task(downlink())
        try:
            async for frame in client_socket:
                if isinstance(frame, bytes):
                    await session.send_realtime_input(audio=types.Blob(data=frame, mime_type="audio/pcm;rate=16000"))
        except ConnectionClosed:
            pass
        finally:
            replies.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await replies


async def main(port: int, base_url: str, ca_file: str, api_key: str, model: str) -> None:
    client = make_client(base_url, ca_file, api_key)

    async def handle(client_socket: ServerConnection) -> None:
        await relay(client_socket, client, model)

    async with serve(handle, "127.0.0.1", port, compression=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    uvloop.run(main(args.port, args.base_url, args.ca_file, args.api_key, args.model))
