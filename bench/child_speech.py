"""A child-like spoken test set made on the fly with espeak-ng: several voices, high pitches, speeds, noise.

No audio is committed: every clip is synthesised from a fixed recipe, so the set is the same on every run.
Run ``python -m bench.child_speech --out DIR`` to write the clips as WAV files to listen to them.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import INPUT_RATE_HZ

QUESTIONS = (
    "How do I open the red door?",
    "I can't find the key.",
    "How do I make the bunny jump?",
    "Where does the gold key go?",
    "Can you give me a hint?",
    "I am stuck on this level.",
    "Is it seven?",
    "What is two plus three?",
)


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice variant, its pitch (0-99; 50 is the voice's own) and words per minute."""

    name: str
    pitch: int
    words_per_minute: int


VOICES = (
    Voice("en-us+f3", 85, 150),
    Voice("en-us+f4", 95, 130),
    Voice("en-us+f2", 75, 175),
    Voice("en-gb+f5", 90, 140),
    Voice("en-us+m3", 80, 160),
)
NOISE_DBFS = (-60.0, -40.0)  # a quiet room's floor, and a busy one


@dataclass(frozen=True)
class Clip:
    text: str
    label: str  # voice, pitch, speed, noise
    pcm: bytes  # 16 kHz PCM16 mono


def espeak_clip(text: str, voice: Voice) -> np.ndarray:
    """``text`` spoken by espeak-ng, as float samples at 16 kHz."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    done = subprocess.run(
        [program, "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
    )
    data = done.stdout
    with wave.open(io.BytesIO(data[:44])) as header:
        rate = header.getframerate()
    start = data.find(b"data")  # espeak-ng's --stdout header has a wrong frame count: read the chunk ourselves
    return resample(pcm16_to_float(data[start + 8 :]), rate, INPUT_RATE_HZ)


def with_room(samples: np.ndarray, noise_dbfs: float, seed: int, *, lead: float = 0.3, tail: float = 0.4) -> bytes:
    """Silence around the speech, a level like a tablet's microphone, and a noise floor."""
    peak = float(np.max(np.abs(samples))) or 1.0
    speech = samples * (0.5 / peak)
    audio = np.concatenate([np.zeros(int(lead * INPUT_RATE_HZ)), speech, np.zeros(int(tail * INPUT_RATE_HZ))])
    noise = np.random.default_rng(seed).normal(0.0, 10 ** (noise_dbfs / 20), audio.size)
    return float_to_pcm16(np.clip(audio + noise, -1.0, 1.0).astype(np.float32))


def child_test_set(questions: tuple[str, ...] = QUESTIONS, voices: tuple[Voice, ...] = VOICES) -> list[Clip]:
    """Every question in every voice at every noise level."""
    clips = []
    for q_number, text in enumerate(questions):
        for v_number, voice in enumerate(voices):
            samples = espeak_clip(text, voice)
            for noise in NOISE_DBFS:
                label = f"{voice.name} p{voice.pitch} {voice.words_per_minute}wpm {noise:g}dBFS"
                clips.append(Clip(text, label, with_room(samples, noise, seed=q_number * 100 + v_number)))
    return clips


_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")
_NUMBERS = dict(enumerate(_NUMBER_WORDS))


def normalise_words(text: str) -> list[str]:
    """Lower case, no punctuation, digits as words (Whisper writes "7", the reference says "seven")."""
    words = re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()
    return [_NUMBERS.get(int(word), word) if word.isdigit() else word for word in words]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words): the Levenshtein distance over words."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word))
    return row[-1], len(ref)


def word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Errors over reference words, for ``(reference, hypothesis)`` pairs."""
    errors = [word_errors(ref, hyp) for ref, hyp in pairs]
    return sum(e for e, _ in errors) / max(1, sum(n for _, n in errors))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for number, clip in enumerate(child_test_set()):
        with wave.open(str(args.out / f"{number:03d}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(INPUT_RATE_HZ)
            wav.writeframes(clip.pcm)
        print(f"{number:03d}.wav  {clip.label}  {clip.text}")
