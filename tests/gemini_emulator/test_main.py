"""``python -m gemini_emulator`` prints its base URL and the certificate to trust, and serves the SDK."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from pathlib import Path

from google import genai
from google.genai import types

from tests.gemini_emulator.conftest import MODEL

ROOT = Path(__file__).resolve().parents[2]


async def test_the_command_prints_where_it_listens_and_a_client_can_connect() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gemini_emulator", "--api-key", "k", cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        found = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert found["base_url"].startswith("https://127.0.0.1:")
        certificate = await asyncio.to_thread(Path(found["ca_file"]).read_text)
        assert certificate.startswith("-----BEGIN CERTIFICATE-----")
        client = genai.Client(
            api_key="k",
            http_options=types.HttpOptions(
                base_url=found["base_url"],
                api_version="v1beta",
                async_client_args={"ssl": ssl.create_default_context(cafile=found["ca_file"])},
            ),
        )
        config = types.LiveConnectConfig(response_modalities=[types.Modality.AUDIO])
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            assert session.setup_complete is not None
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
