"""What every engine offers the connection that drives it, and how one engine hands a conversation to another."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, assert_never

from voice.context import GameState, Mode, Picture
from voice.protocol import AudioEnd, AudioInput, GameStateInput, TextInput
from voice.tasks import cancel_and_wait

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
SendAudio = Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True)
class PictureShared:
    """A picture the game shared, checked and re-encoded by the connection (or the REST upload)."""

    picture: Picture


# What a client sends that an engine answers: the protocol's decoded inputs, minus what the connection handles.
ClientInput = TextInput | AudioInput | AudioEnd | PictureShared | GameStateInput


@dataclass(frozen=True)
class Handover:
    """What a failing engine passes to the one that takes over its connection, so nothing the child said is lost.

    ``stored_words`` were already stored as the child's turn but never answered; ``inputs`` are what the
    child sent after them, in order, not yet consumed.
    """

    stored_words: str = ""
    inputs: Sequence[ClientInput] = field(default_factory=tuple)


class Engine(Protocol):
    """What runs a connection's turns (offline or text-mode speech, or Gemini Live).

    The connection calls :meth:`run` once, in a task it owns, and cancels it when the client leaves; an
    exception escaping :meth:`run` is a failure of the connection. Then :meth:`close` stores what was said.
    """

    @property
    def mode(self) -> Mode: ...

    @property
    def model(self) -> str: ...

    async def run(self) -> None:
        """Run the engine's tasks until cancelled."""
        ...

    async def close(self) -> None:
        """Keep what was already said; called once :meth:`run` has ended. Safe to call more than once."""
        ...

    async def take_over(self, handover: Handover) -> None:
        """Continue a conversation another engine could not: answer its stored words, then its inputs."""
        ...

    async def text(self, content: str) -> None: ...

    async def audio(self, pcm: bytes) -> None:
        """A validated 16 kHz PCM16 frame from the microphone."""
        ...

    async def audio_end(self) -> None: ...

    async def playback(self, played_samples: int) -> None:
        """The client has played ``played_samples`` of this connection's helper audio (24 kHz samples)."""
        ...

    async def image(self, picture: Picture) -> None:
        """A checked picture the game shared: seen by the model that answers next, where it can see."""
        ...

    async def game_state(self, state: GameState) -> None:
        """The game's newest state: context for the next answers, never answered by itself."""
        ...


async def feed(engine: Engine, item: ClientInput) -> None:
    """Give one client input to an engine."""
    match item:
        case TextInput(content=content):
            await engine.text(content)
        case AudioInput(pcm=pcm):
            await engine.audio(pcm)
        case AudioEnd():
            await engine.audio_end()
        case PictureShared(picture=picture):
            await engine.image(picture)
        case GameStateInput(state=state):
            await engine.game_state(state)
        case _:
            assert_never(item)


@contextlib.asynccontextmanager
async def running(engine: Engine) -> AsyncIterator[None]:
    """Run an engine outside a connection (tools, benchmarks, tests): stopped and closed on exit, and a failure of
    its tasks raised there."""
    runner = asyncio.create_task(engine.run(), name=f"engine:{type(engine).__name__}")
    try:
        yield
    finally:
        try:
            await cancel_and_wait(runner)
        finally:
            await engine.close()
