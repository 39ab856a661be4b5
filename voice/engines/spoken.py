"""Speech through separate parts: hear (VAD and speech-to-text), think (a text brain), speak (text-to-speech).

This engine runs the offline mode, and the text mode that takes over when Gemini Live cannot be had.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from voice import metrics, protocol
from voice.audio import chunks, duration_seconds
from voice.audio_format import BYTES_PER_SAMPLE, OUTPUT_RATE_HZ
from voice.brains.base import BrainError
from voice.context import GameState, Mode, Picture, Reply
from voice.conversation import Conversation
from voice.engines.base import Handover, SendAudio, SendJson, feed
from voice.speech.stt import StreamingTranscriber
from voice.speech.tts import SpeechSynthesizer, SpeechUnavailable, SpokenSentence
from voice.speech.vad import DEFAULT_VAD, SpeechContinues, SpeechDetector, SpeechEnded, SpeechStarted, VadSettings
from voice.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

OUTPUT_CHUNK_BYTES = OUTPUT_RATE_HZ * BYTES_PER_SAMPLE // 10  # 100 ms
MAX_QUEUED_AUDIO_FRAMES = 500  # 10 s of 20 ms frames
MAX_QUEUED_TURNS = 8
SENTENCES_AHEAD = 2


@dataclass
class _Speech:
    """The reply being spoken: what has reached the client so far, and whether the child cut it off."""

    sentences_sent: list[str]
    partial: str = ""
    cut: bool = False

    def heard_text(self) -> str:
        return " ".join([*self.sentences_sent, self.partial]).strip()


class SpokenChat:
    """Runs two tasks: one listens to the microphone, one answers turns (spoken or typed) in order.

    Reply audio is paced to stay at most ``lead_seconds`` ahead of real time, so that when the child speaks
    over the helper (barge-in) the rest of the reply is never sent.
    """

    def __init__(
        self,
        *,
        conversation: Conversation,
        send_json: SendJson,
        send_audio: SendAudio,
        transcriber: StreamingTranscriber,
        voice: SpeechSynthesizer | None,
        vad: VadSettings = DEFAULT_VAD,
        lead_seconds: float = 0.3,
        say_ahead: Sequence[str] = (),
    ) -> None:
        """``say_ahead``: replies known before the child speaks (a level's authored hints), synthesised while
        the chat is open, at a low priority, so that saying them later needs no synthesis."""
        self._conversation = conversation
        self._send_json = send_json
        self._send_audio = send_audio
        self._transcriber = transcriber
        self._voice = voice
        self._vad = vad
        self._lead_seconds = lead_seconds
        self._say_ahead = tuple(say_ahead)
        self._audio_in: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=MAX_QUEUED_AUDIO_FRAMES)
        # (words, spoken, already stored)
        self._turns: asyncio.Queue[tuple[str, bool, bool]] = asyncio.Queue(maxsize=MAX_QUEUED_TURNS)
        self._closed = False
        self._dropping_audio = False
        self._speech: _Speech | None = None
        self._send_lock = asyncio.Lock()
        self._voice_warning_sent = False
        self._speech_ended_at: float | None = None

    @property
    def mode(self) -> Mode:
        return self._conversation.brain.mode

    @property
    def model(self) -> str:
        return self._conversation.brain.model

    async def run(self) -> None:
        session = self._conversation.context.session_id
        async with asyncio.TaskGroup() as tasks:
            listening = tasks.create_task(self._listen(), name=f"listen:{session}")
            answering = tasks.create_task(self._answer_turns(), name=f"answer:{session}")
            if self._voice is not None and self._say_ahead:  # done once, in the background; then it ends
                preparing = tasks.create_task(self._prepare_speech(self._voice), name=f"say-ahead:{session}")
                del preparing
            del listening, answering  # the group owns them: they end with it

    async def _prepare_speech(self, voice: SpeechSynthesizer) -> None:
        started = time.monotonic()
        try:
            made = await voice.prepare(self._say_ahead)
        except SpeechUnavailable as error:  # the replies are synthesised when said instead
            logger.warning("Speech made ahead failed: %s", str(error))
            return
        if made:
            logger.info("Synthesised %d sentences ahead in %.1f s", made, time.monotonic() - started)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._transcriber.active:
            # The child was speaking when the connection closed: keep what was said.
            words = await self._transcriber.finish()
            if words.strip():
                await self._conversation.store_child_turn(words, spoken=True)

    async def take_over(self, handover: Handover) -> None:
        if handover.stored_words:
            await self._queue_turn(handover.stored_words, spoken=False, stored=True)
        for item in handover.inputs:
            await feed(self, item)

    # --- input -------------------------------------------------------------------------------

    async def text(self, content: str) -> None:
        await self._queue_turn(content, spoken=False)

    async def audio(self, pcm: bytes) -> None:
        try:
            self._audio_in.put_nowait(pcm)
            self._dropping_audio = False
        except asyncio.QueueFull:
            if self._dropping_audio:
                return  # one error per overflow, not one per frame
            self._dropping_audio = True
            await self._send_json(
                protocol.error_message(
                    protocol.ErrorCode.RATE_LIMITED,
                    "Audio is arriving faster than it can be heard; frames were dropped.",
                )
            )

    async def audio_end(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._audio_in.put_nowait(None)

    async def playback(self, played_samples: int) -> None:
        """Not needed here: this engine paces its own downlink, so it knows what the client has played."""

    async def image(self, picture: Picture) -> None:
        # The next answer's brain request carries it: Gemini looks at it, the offline brain says it cannot.
        self._conversation.share_picture(picture)

    async def game_state(self, state: GameState) -> None:
        await self._conversation.report_game_state(state)

    async def _queue_turn(self, text: str, *, spoken: bool, stored: bool = False) -> None:
        try:
            self._turns.put_nowait((text, spoken, stored))
        except asyncio.QueueFull:
            await self._send_json(
                protocol.error_message(
                    protocol.ErrorCode.RATE_LIMITED, "Too many messages waiting for an answer; wait for the reply."
                )
            )

    # --- listening -----------------------------------------------------------------------------

    async def _listen(self) -> None:
        detector = SpeechDetector(self._vad, finished=self._transcriber.looks_finished)
        while True:
            batch = [await self._audio_in.get()]
            while not self._audio_in.empty():  # catch up in one go when decoding fell behind
                batch.append(self._audio_in.get_nowait())
            for item in batch:
                for event in detector.feed(item) if item is not None else detector.flush():
                    await self._on_speech_event(event)

    async def _on_speech_event(self, event: SpeechStarted | SpeechContinues | SpeechEnded) -> None:
        match event:
            case SpeechStarted(audio=audio):
                await self._barge_in()
                await self._transcriber.start()
                await self._caption(await self._transcriber.feed(audio))
            case SpeechContinues(audio=audio):
                if self._transcriber.active:
                    await self._caption(await self._transcriber.feed(audio))
            case SpeechEnded():
                self._speech_ended_at = time.monotonic()
                words = (await self._transcriber.finish()).strip()
                if words:
                    await self._send_json(protocol.input_transcript_message(words, final=True))
                    await self._queue_turn(words, spoken=True)

    async def _caption(self, partial: str | None) -> None:
        if partial:
            await self._send_json(protocol.input_transcript_message(partial, final=False))

    async def _barge_in(self) -> None:
        speech = self._speech
        if speech is None or speech.cut:
            return
        async with self._send_lock:
            speech.cut = True
            await self._send_json(protocol.interrupted_message())

    # --- answering -----------------------------------------------------------------------------

    async def _answer_turns(self) -> None:
        while True:
            text, spoken, stored = await self._turns.get()
            try:
                await self._answer(text, spoken=spoken, stored=stored)
            except BrainError:  # expected: Gemini and the offline brain both failed; later turns may succeed
                logger.warning("No brain could answer in session %s", self._conversation.context.session_id)
                await self._send_json(
                    protocol.error_message(
                        protocol.ErrorCode.HELPER_UNAVAILABLE, "The helper cannot answer right now. Please try again."
                    )
                )

    async def _answer(self, text: str, *, spoken: bool, stored: bool = False) -> None:
        if stored:
            history = (await self._conversation.history())[:-1]  # the stored words themselves come last
        else:
            history = await self._conversation.hear(text, spoken=spoken)
        reply = await self._conversation.think(history, text)
        if not spoken:
            await self._send_json(protocol.response_message(reply.text))
        if self._voice is None:
            if spoken:
                await self._send_json(protocol.response_message(reply.text))
            await self._conversation.record_reply(reply.text, reply, spoken=False)
            await self._warn_voice_missing()
            return
        speech = self._speech = _Speech(sentences_sent=[])
        try:
            await self._speak(reply, speech, captions=spoken)
        finally:
            self._speech = None
            # A typed question got the whole reply as text; a spoken one got what was voiced before any cut.
            heard, cut = (speech.heard_text(), speech.cut) if spoken else (reply.text, False)
            # Shielded: a client that leaves mid-reply still has what it heard stored.
            await asyncio.shield(self._conversation.record_reply(heard, reply, spoken=spoken, interrupted=cut))
        await self._send_json(protocol.turn_complete_message(interrupted=speech.cut))
        metrics.TURNS.labels(self.mode.value, str(speech.cut).lower()).inc()

    async def _speak(self, reply: Reply, speech: _Speech, *, captions: bool) -> None:
        assert self._voice is not None
        ready: asyncio.Queue[SpokenSentence | Exception | None] = asyncio.Queue(maxsize=SENTENCES_AHEAD)
        producer = asyncio.create_task(self._synthesize(reply.text, ready))
        started: float | None = None
        sent_seconds = 0.0
        try:
            while (sentence := await ready.get()) is not None and not speech.cut:
                if isinstance(sentence, Exception):
                    raise sentence
                if captions:
                    await self._send_json(protocol.output_transcript_message(sentence.text))
                pieces = list(chunks(sentence.pcm, OUTPUT_CHUNK_BYTES))
                for number, piece in enumerate(pieces, start=1):
                    async with self._send_lock:
                        if speech.cut:
                            break
                        await self._send_audio(piece)
                    if started is None:
                        started = time.monotonic()
                        ended = self._speech_ended_at
                        if captions and ended is not None:  # a spoken turn: end of speech → first reply audio
                            metrics.REPLY_LATENCY.labels(self.mode.value).observe(started - ended)
                    words = sentence.text.split()
                    speech.partial = " ".join(words[: len(words) * number // len(pieces)])
                    sent_seconds += duration_seconds(piece, OUTPUT_RATE_HZ)
                    ahead = sent_seconds - (time.monotonic() - started)
                    if ahead > self._lead_seconds:
                        await asyncio.sleep(ahead - self._lead_seconds)
                if not speech.cut:
                    speech.sentences_sent.append(sentence.text)
                    speech.partial = ""
        finally:
            await cancel_and_wait(producer)

    async def _synthesize(self, text: str, ready: asyncio.Queue[SpokenSentence | Exception | None]) -> None:
        assert self._voice is not None
        try:
            async for sentence in self._voice.synthesize(text):
                await ready.put(sentence)
        except SpeechUnavailable as error:
            logger.warning("Speech failed: %s", str(error))
        except Exception as error:  # raised again in the speaking task, which the connection supervises
            await ready.put(error)
            return
        # The end marker, also after a failure. A speaker that stopped early cancels this task instead.
        await ready.put(None)

    async def _warn_voice_missing(self) -> None:
        if not self._voice_warning_sent:
            self._voice_warning_sent = True
            await self._send_json(
                protocol.error_message(
                    protocol.ErrorCode.AUDIO_UNSUPPORTED,
                    "The helper's voice is not available here; replies come as text.",
                )
            )
