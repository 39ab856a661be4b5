"""The offline voices: sentence streaming, 24 kHz output, and a clear message when espeak-ng is missing."""

from __future__ import annotations

import subprocess

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
    voice = tts.NeuralVoice(*files, deterministic=True, cached_sentences=0)
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


def _espeak_once(text: str) -> str:
    done = subprocess.run(
        [tts.espeak_program(), "-q", "--ipa", "-v", "en-us"], input=text.encode(), capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def test_the_long_lived_phonemizer_gives_what_espeak_gives_for_each_clause() -> None:
    phonemizer = tts.EspeakPhonemizer("en-us")
    try:
        clauses = ["Great job", "you found the golden key", "7 apples"]
        assert phonemizer.phonemize(clauses) == [_espeak_once(clause) for clause in clauses]
    finally:
        phonemizer.close()


def test_the_phonemizer_keeps_one_process_and_replaces_it_when_it_dies() -> None:
    phonemizer = tts.EspeakPhonemizer("en-us")
    try:
        phonemizer.phonemize(["hello"])
        process = phonemizer._process
        assert process is not None
        phonemizer.phonemize(["hello again"])
        assert phonemizer._process is process  # no new program per call
        process.kill()
        process.wait()
        assert phonemizer.phonemize(["hello"]) == [_espeak_once("hello")]
        assert phonemizer._process is not process
    finally:
        phonemizer.close()


async def test_a_sentence_said_before_comes_from_the_cache_without_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    files = tts.joe_voice_files()
    assert files is not None
    voice = tts.NeuralVoice(*files, deterministic=True, cached_sentences=2)
    first = [s.pcm async for s in voice.synthesize("Look under the rug.")]

    async def no_phonemes(clauses: object, voice: str, **_: object) -> list[str]:
        raise AssertionError("synthesised again")

    monkeypatch.setattr(tts, "phonemize", no_phonemes)
    assert [s.pcm async for s in voice.synthesize("Look under the rug.")] == first
    with pytest.raises(AssertionError, match="synthesised again"):
        [s async for s in voice.synthesize("Something new.")]


def test_the_sentence_cache_forgets_the_least_recently_used() -> None:
    cache = tts.SentenceCache(2)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"
    cache.put("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


async def test_sentences_made_ahead_are_said_without_synthesis_however_much_else_is_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = tts.joe_voice_files()
    assert files is not None
    voice = tts.NeuralVoice(*files, deterministic=True, cached_sentences=1)
    assert await voice.prepare(["Look under the rug. You can do it!", "You can do it!"]) == 2
    assert await voice.prepare(["Look under the rug."]) == 0, "kept sentences are not made again"
    [s async for s in voice.synthesize("Something else. And another thing.")]  # fills the recent cache twice

    async def no_phonemes(clauses: object, voice: str, **_: object) -> list[str]:
        raise AssertionError("synthesised on the way out")

    monkeypatch.setattr(tts, "phonemize", no_phonemes)
    spoken = [s async for s in voice.synthesize("Look under the rug. You can do it!")]
    assert [s.text for s in spoken] == ["Look under the rug.", "You can do it!"]
    assert all(rms(s.pcm) > 0.05 for s in spoken)


async def test_the_espeak_voice_makes_sentences_ahead_too(monkeypatch: pytest.MonkeyPatch) -> None:
    voice = tts.EspeakVoice(cached_sentences=0)
    assert await voice.prepare(["Well done."]) == 1
    monkeypatch.setattr(tts, "_espeak_wav", lambda *_: (_ for _ in ()).throw(AssertionError("synthesised")))
    assert [s.text async for s in voice.synthesize("Well done.")] == ["Well done."]


async def test_a_sentence_made_ahead_on_one_low_priority_thread_sounds_as_one_made_on_demand() -> None:
    files = tts.joe_voice_files()
    assert files is not None
    on_demand = tts.NeuralVoice(*files, deterministic=True, cached_sentences=0)
    ahead = tts.NeuralVoice(*files, deterministic=True, cached_sentences=0)
    assert await ahead.prepare(["Look under the rug."]) == 1
    assert ahead._session_for_ahead().get_session_options().intra_op_num_threads == 1
    made_ahead = [s.pcm async for s in ahead.synthesize("Look under the rug.")]
    assert made_ahead == [s.pcm async for s in on_demand.synthesize("Look under the rug.")]
