"""pocketsphinx with its bundled en-US model: the recogniser the offline engine used before Whisper, for comparison."""

from __future__ import annotations

import functools

from pocketsphinx import Decoder


@functools.cache
def _decoder() -> Decoder:
    # bestpath=False: the final hypothesis equals the last partial, and accuracy was better on our speech.
    return Decoder(bestpath=False, loglevel="FATAL")


def sphinx_transcribe(pcm: bytes) -> str:
    """The whole utterance (16 kHz PCM16) at once."""
    decoder = _decoder()
    decoder.start_utt()
    decoder.process_raw(pcm, no_search=False, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""
