"""Opening upstreams: a handle that fails costs only the handle; a fresh session is seeded with the history."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.voice.engines.live.test_supervisor import RecordingUpstream
from voice.context import Speaker, Turn
from voice.engines.live.connector import Connector
from voice.gemini.events import ModelUnavailable, UpstreamError, UpstreamRefused
from voice.gemini.roster import ModelRoster

HISTORY = [Turn(Speaker.CHILD, "where is the key?"), Turn(Speaker.ASSISTANT, "Under the rug.")]


class SeededUpstream(RecordingUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.seeded: list[Turn] | None = None

    async def seed(self, history: Sequence[Turn]) -> None:
        self.seeded = list(history)


class StoredHandle:
    def __init__(self, handle: str) -> None:
        self.saved: list[tuple[str, str]] = [("live-model", handle)]

    async def load_resumption(self) -> tuple[str, str]:
        return self.saved[-1]

    async def save_resumption(self, model: str, handle: str) -> None:
        self.saved.append((model, handle))

    async def add_usage(self, usage: dict[str, int]) -> None:
        pass


async def history() -> list[Turn]:
    return HISTORY


async def connector_failing_with(error: UpstreamError) -> tuple[Connector, list[str], StoredHandle]:
    attempts: list[str] = []

    async def open_upstream(model: str, handle: str) -> SeededUpstream:
        attempts.append(handle)
        if handle:
            raise error
        return SeededUpstream()

    store = StoredHandle("old-handle")
    connector = Connector(
        open_upstream=open_upstream, roster=ModelRoster(["live-model"], "Live"), resumption=store, session_id="s"
    )
    await connector.load()
    return connector, attempts, store


@pytest.mark.parametrize(
    "error",
    [
        UpstreamError(1007, "Invalid session resumption handle."),
        ModelUnavailable(1008, "Session resumption handle not found."),
        UpstreamError(1008, "Policy violation."),
        UpstreamError(1011, "Internal error encountered."),
    ],
)
async def test_a_failed_resumption_opens_a_fresh_seeded_session_and_forgets_the_handle(error, caplog) -> None:
    connector, attempts, store = await connector_failing_with(error)
    upstream = await connector.open(history)
    assert attempts == ["old-handle", ""]
    assert isinstance(upstream, SeededUpstream) and upstream.seeded == HISTORY
    assert store.saved[-1] == ("live-model", ""), "no later connection tries the handle again"
    assert [r.message for r in caplog.records if "resuming failed" in r.message] != []
    await connector.open(history)
    assert attempts == ["old-handle", "", ""], "the dropped handle is not tried again"


async def test_a_refusal_at_the_upgrade_is_not_blamed_on_the_handle() -> None:
    connector, attempts, store = await connector_failing_with(UpstreamRefused(429, "quota"))
    with pytest.raises(UpstreamRefused):
        await connector.open(history)
    assert attempts == ["old-handle"]
    assert store.saved[-1] == ("live-model", "old-handle")


async def test_when_the_fresh_session_fails_too_the_caller_sees_that_failure() -> None:
    async def open_upstream(model: str, handle: str) -> SeededUpstream:
        raise UpstreamError(1011, "fresh" if not handle else "resumed")

    store = StoredHandle("old-handle")
    connector = Connector(
        open_upstream=open_upstream, roster=ModelRoster(["live-model"], "Live"), resumption=store, session_id="s"
    )
    await connector.load()
    with pytest.raises(UpstreamError, match="fresh"):
        await connector.open(history)
