"""The offline voices: sentence streaming, 24 kHz output, and a clear message when espeak-ng is missing."""

from __future__ import annotations

import pytest

from tests.speech import rms
from voice.speech import tts
from voice.speech.tts import SpeechUnavailable, load_voice, split_clauses, split_sentences


def test_sentences_and_clauses_are_split_where_espeak_splits() -> None:
    assert split_sentences("Hi there!  How are you? Fine.") == ["Hi there!", "How are you?", "Fine."]
    assert split_clauses("Hi there, friend; fine.") == [("Hi there", ","), ("friend", ";"), ("fine", ".")]
    assert split_sentences("...") == []


@pytest.mark.parametrize("name", ["joe", "espeak"])
async def test_each_voice_speaks_each_sentence_as_24_khz_speech(name: str) -> None:
    sentences = [s async for s in load_voice(name).synthesize("Look under the rug. You can do it!")]
    assert [s.text for s in sentences] == ["Look under the rug.", "You can do it!"]
    for sentence in sentences:
        assert len(sentence.pcm) % 2 == 0
        assert 0.5 < len(sentence.pcm) / 2 / 24_000 < 4.0
        assert rms(sentence.pcm) > 0.05


async def test_the_deterministic_neural_voice_repeats_itself_exactly() -> None:
    files = tts.joe_voice_files()
    assert files is not None
    voice = tts.NeuralVoice(*files, deterministic=True)
    first = [s.pcm async for s in voice.synthesize("Hello there.")]
    assert first == [s.pcm async for s in voice.synthesize("Hello there.")]


def test_a_missing_espeak_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    load_voice.cache_clear()
    with pytest.raises(SpeechUnavailable, match="apt-get install espeak-ng"):
        load_voice("joe")
    load_voice.cache_clear()


def test_an_unknown_voice_is_refused() -> None:
    with pytest.raises(SpeechUnavailable, match="Unknown offline voice"):
        load_voice("robot")
