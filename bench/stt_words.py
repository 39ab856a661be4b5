"""How many words the offline speech recognition gets right on short questions read by the offline voice.

``python -m bench.stt_words``. The voice is a synthetic adult one in a quiet room: an upper bound for a child
at a game, not a measure of it.
"""

from __future__ import annotations

import asyncio

from tests.speech import spoken_question, word_similarity
from voice.speech.stt import DecoderPool, transcribe

QUESTIONS = [
    "How do I open the red door?", "Where is the key?", "I can't find the key.", "What is under the rug?",
    "How do I jump on the clouds?", "Can you help me?", "I am stuck on this level.", "What do I do now?",
    "Where do I go next?", "Is the key in the kitchen?", "How do I use the key?", "Why won't the door open?",
]  # fmt: skip


async def main() -> None:
    pool = DecoderPool(1)
    scores = []
    print("| said | heard | word match |\n|---|---|---|")
    for question in QUESTIONS:
        heard = await transcribe(pool, await spoken_question(question, lead_seconds=0.3, tail_seconds=0.5))
        scores.append(word_similarity(question.rstrip("?.").replace("?", ""), heard))
        print(f"| {question} | {heard} | {scores[-1]:.2f} |")
    exact = sum(score == 1.0 for score in scores)
    print(f"\n{exact} of {len(scores)} word for word; mean word match {sum(scores) / len(scores):.2f}.")


if __name__ == "__main__":
    asyncio.run(main())
