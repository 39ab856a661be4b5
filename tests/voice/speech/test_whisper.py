"""Whisper's front end and how much of a child's speech it gets right, next to pocketsphinx on the same clips."""

from __future__ import annotations

import numpy as np

from bench.child_speech import VOICES, Voice, child_test_set, word_error_rate, word_errors
from bench.sphinx import sphinx_transcribe
from voice.speech import whisper

# A fixed slice of the benchmark's child-like set: high-pitched voices, fast and slow, quiet and noisy rooms.
PHRASES = ("How do I open the red door?", "Can you give me a hint?", "What is two plus three?", "I can't find the key.")
TEST_VOICES: tuple[Voice, ...] = (VOICES[0], VOICES[2], VOICES[4])
WORD_ERROR_BOUND = 0.25


def test_the_mel_filters_cover_the_spectrum_like_whispers() -> None:
    filters = whisper.mel_filters()
    assert filters.shape == (80, 201)
    assert (filters >= 0).all()
    peaks = filters.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all(), "bands rise in frequency"
    assert (filters.sum(axis=1) > 0).all(), "every band hears something"


def test_the_features_are_scaled_as_whisper_expects() -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000).astype(np.float32) * 0.5
    features = whisper.log_mel(tone, 400)
    assert features.shape == (80, 400)
    assert features.max() - features.min() <= 2.0 + 1e-6  # the dynamic range is clamped to 80 dB
    band_440 = int(np.argmax(features[:, 50]))
    assert band_440 == int(np.argmax(whisper.mel_filters()[:, round(440 / 40)]))


def test_windows_are_a_few_fixed_sizes_with_room_after_the_speech() -> None:
    assert whisper.window_frames(16_000) == 400  # 1 s of speech: the 4 s minimum
    assert whisper.window_frames(3 * 16_000) == 600  # 3 s + 2 s of room, rounded up to 6 s
    assert whisper.window_frames(60 * 16_000) == 3000  # never past Whisper's 30 s


def test_word_errors_count_digits_as_the_words_they_stand_for() -> None:
    assert word_errors("Is it seven?", "is it 7") == (0, 3)
    assert word_errors("how do I open the red door", "how do wolf") == (5, 7)


def test_whisper_hears_child_like_voices_that_pocketsphinx_does_not() -> None:
    clips = child_test_set(PHRASES, TEST_VOICES)
    recognizer = whisper.WhisperRecognizer()
    heard = [(clip.text, recognizer.transcribe(clip.pcm).heard) for clip in clips]
    sphinx = [(clip.text, sphinx_transcribe(clip.pcm)) for clip in clips]
    assert word_error_rate(heard) <= WORD_ERROR_BOUND, heard
    assert word_error_rate(sphinx) > WORD_ERROR_BOUND, "the set is too easy to tell the recognisers apart"


def test_a_batch_hears_each_utterance_as_it_is_heard_alone_and_silence_as_nothing() -> None:
    clips = child_test_set((*PHRASES, "Help me."), TEST_VOICES[:1])[::2]  # the quiet room; windows differ
    recognizer = whisper.WhisperRecognizer()
    alone = [recognizer.transcribe(clip.pcm).text for clip in clips]
    together = recognizer.transcribe_batch([clips[0].pcm, b"", *(clip.pcm for clip in clips[1:])])
    assert together[1] == whisper.Transcript("", 1.0, 0.0)
    assert [t.text for t in (together[0], *together[2:])] == alone
    assert len(set(alone)) == len(alone)
    assert len({whisper.window_frames(len(clip.pcm) // 2) for clip in clips}) > 1, "the batch mixes window sizes"
