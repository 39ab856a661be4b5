"""Responders decide what the emulated model hears and says; the server handles the protocol around them."""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

OUTPUT_RATE_HZ = 24_000
INPUT_RATE_HZ = 16_000
TONE_LABEL = "[tone]"


@dataclass
class Conversation:
    """One emulated Live session's state: it outlives a connection when resumed with a handle."""

    model: str
    system_instruction: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text); role is "user" or "model"
    functions: tuple[str, ...] = ()  # the functions the session declared in its setup


@dataclass(frozen=True)
class SpokenReply:
    """What the model says: the output transcript and 24 kHz PCM16 mono audio."""

    text: str
    audio: bytes


@dataclass(frozen=True)
class ToolRequest:
    """A function the model calls before it answers."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


class Responder(Protocol):
    async def transcribe(self, pcm16k: bytes) -> str:
        """What the model heard in one turn of 16 kHz PCM16 audio."""
        ...

    def tool_call(self, conversation: Conversation, user_text: str) -> ToolRequest | None:
        """A function to call (one the session declared) before answering ``user_text``, or None."""
        ...

    async def reply(
        self, conversation: Conversation, user_text: str, tool_result: dict[str, Any] | None = None
    ) -> SpokenReply:
        """The model's answer to ``user_text``; ``conversation.history`` does not include it yet. ``tool_result``
        is the answer to the function it called first, if any."""
        ...


def tone(seconds: float, *, frequency: float = 440.0, amplitude: float = 0.3) -> bytes:
    """A syllable-modulated sine wave as 24 kHz PCM16: audible, clearly not speech."""
    samples = np.arange(int(seconds * OUTPUT_RATE_HZ), dtype=np.float64) / OUTPUT_RATE_HZ
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * samples)
    wave = amplitude * envelope * np.sin(2 * np.pi * frequency * samples)
    return (wave * 32767).astype("<i2").tobytes()


class ScriptedResponder:
    """Deterministic replies from a rule table; transcripts of spoken turns are supplied by the test.

    Rules are ``(pattern, reply)`` pairs: the first pattern found (case-insensitive regex) in what the user
    said chooses the reply. Replies are spoken with the offline voice when ``voice`` is given, and voiced
    as a tone otherwise, labelled ``[tone]`` in the output transcript.

    Tool rules are ``(pattern, function, args)``: when the pattern is found and the session declared the
    function, the model calls it first, and speaks ``tool_reply`` filled in with the function's answer
    (``{hint}``, ``{note}``, … — any key of the response).
    """

    def __init__(
        self,
        rules: Sequence[tuple[str, str]] = (),
        *,
        tool_rules: Sequence[tuple[str, str, dict[str, Any]]] = (),
        tool_reply: str = "{hint}",
        default_reply: str = "I heard: {user}",
        transcripts: Iterable[str] = (),
        seconds_per_character: float = 0.03,
        max_reply_seconds: float = 6.0,
        voice: str | None = None,
    ) -> None:
        self._rules = [(re.compile(pattern, re.IGNORECASE), reply) for pattern, reply in rules]
        self._tool_rules = [(re.compile(pattern, re.IGNORECASE), name, args) for pattern, name, args in tool_rules]
        self._tool_reply = tool_reply
        self._default = default_reply
        self._transcripts: collections.deque[str] = collections.deque(transcripts)
        self._seconds_per_character = seconds_per_character
        self._max_seconds = max_reply_seconds
        self._voice_name = voice

    def queue_transcript(self, text: str) -> None:
        """The next spoken turn will be transcribed as ``text``."""
        self._transcripts.append(text)

    async def transcribe(self, pcm16k: bytes) -> str:
        if self._transcripts:
            return self._transcripts.popleft()
        return f"[speech {len(pcm16k) / 2 / INPUT_RATE_HZ:.1f} s]"

    def reply_text(self, user_text: str) -> str:
        for pattern, reply in self._rules:
            if pattern.search(user_text):
                return reply
        return self._default.format(user=user_text)

    def tool_call(self, conversation: Conversation, user_text: str) -> ToolRequest | None:
        for pattern, name, args in self._tool_rules:
            if name in conversation.functions and pattern.search(user_text):
                return ToolRequest(name, dict(args))
        return None

    async def reply(
        self, conversation: Conversation, user_text: str, tool_result: dict[str, Any] | None = None
    ) -> SpokenReply:
        if tool_result is not None:
            fields = collections.defaultdict(str, {key: str(value) for key, value in tool_result.items()})
            text = self._tool_reply.format_map(fields).strip() or "I could not find a hint."
        else:
            text = self.reply_text(user_text)
        if self._voice_name is not None:
            from voice.speech.tts import load_voice

            voice = load_voice(self._voice_name)
            return SpokenReply(text=text, audio=b"".join([s.pcm async for s in voice.synthesize(text)]))
        seconds = min(self._max_seconds, max(0.4, len(text) * self._seconds_per_character))
        return SpokenReply(text=f"{TONE_LABEL} {text}", audio=tone(seconds))


class EngineResponder:
    """The offline engine as the model: it really hears (speech-to-text), answers from the hints in the
    system instruction (the hint brain) and speaks (the offline voice)."""

    def __init__(self, *, decoders: int = 2, voice: str = "joe") -> None:
        from voice.brains.offline import OfflineHintBrain
        from voice.speech.stt import shared_decoder_pool
        from voice.speech.tts import load_voice

        self._pool = shared_decoder_pool(decoders)
        self._voice = load_voice(voice)
        self._brain = OfflineHintBrain()

    async def transcribe(self, pcm16k: bytes) -> str:
        from voice.speech.stt import transcribe

        return await transcribe(self._pool, pcm16k)

    def tool_call(self, conversation: Conversation, user_text: str) -> ToolRequest | None:
        return None  # the hint brain reads the hints from the system instruction itself

    async def reply(
        self, conversation: Conversation, user_text: str, tool_result: dict[str, Any] | None = None
    ) -> SpokenReply:
        from voice.context import ConversationContext, LevelContext, Speaker, Turn
        from voice.instructions import hints_from_instruction

        level = LevelContext(title="", description="", hints=hints_from_instruction(conversation.system_instruction))
        history = [
            Turn(Speaker.CHILD if role == "user" else Speaker.ASSISTANT, text) for role, text in conversation.history
        ]
        answer = await self._brain.reply(ConversationContext("emulator", 6, level), history, user_text)
        audio = b"".join([sentence.pcm async for sentence in self._voice.synthesize(answer.text)])
        return SpokenReply(text=answer.text, audio=audio)
