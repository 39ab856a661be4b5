"""webrtcvad segmentation: onset, hangover, pre-roll and flush."""

from __future__ import annotations

from tests.speech import spoken_question
from voice.speech.vad import FRAME_BYTES, SpeechContinues, SpeechDetector, SpeechEnded, SpeechStarted, VadSettings


async def test_one_spoken_question_is_one_segment_with_its_preroll() -> None:
    pcm = await spoken_question("How do I open the red door?", lead_seconds=1.0, tail_seconds=1.0)
    detector = SpeechDetector(VadSettings(onset_ms=120, hangover_ms=300, preroll_ms=300))
    events = [
        event for start in range(0, len(pcm), FRAME_BYTES) for event in detector.feed(pcm[start : start + FRAME_BYTES])
    ]
    kinds = [type(event) for event in events]
    assert kinds.count(SpeechStarted) == 1
    assert kinds.count(SpeechEnded) == 1
    assert kinds.index(SpeechStarted) < kinds.index(SpeechEnded)
    started = next(e for e in events if isinstance(e, SpeechStarted))
    assert len(started.audio) >= (300 + 120) * 32, "the pre-roll and the onset come with the start"
    segment = len(started.audio) + sum(len(e.audio) for e in events if isinstance(e, SpeechContinues))
    assert 1.2 * 32000 < segment < 3.5 * 32000


def test_noise_free_silence_never_starts_speech() -> None:
    assert SpeechDetector().feed(bytes(32000 * 3)) == []


async def test_flush_ends_a_segment_at_once() -> None:
    pcm = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.0)
    detector = SpeechDetector()
    events = detector.feed(pcm[: len(pcm) // 2])
    assert any(isinstance(e, SpeechStarted) for e in events)
    assert detector.flush() == [SpeechEnded()]
    assert detector.flush() == []


async def _quiet_before_the_end(finished: bool) -> int:
    """Milliseconds of the tail fed before the detector ended the turn."""
    pcm = await spoken_question("Where is the key?", lead_seconds=0.3, tail_seconds=1.0)
    speech_part, tail = pcm[:-32000], pcm[-32000:]
    detector = SpeechDetector(VadSettings(hangover_ms=300, early_end_ms=160), finished=lambda: finished)
    detector.feed(speech_part)
    for number, start in enumerate(range(0, len(tail), FRAME_BYTES)):
        if any(isinstance(e, SpeechEnded) for e in detector.feed(tail[start : start + FRAME_BYTES])):
            return (number + 1) * 20
    raise AssertionError("the turn never ended")


async def test_a_complete_sentence_ends_the_turn_before_the_full_hangover() -> None:
    early = await _quiet_before_the_end(finished=True)
    full = await _quiet_before_the_end(finished=False)
    assert early <= full - 100
    assert full > 200
