"""The offline hint brain: answers from the level's authored hints, chosen by meaning; nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Sequence

from voice.context import ConversationContext, Hint, Mode, Reply, Speaker, Turn
from voice.game_state import order_by_game_state
from voice.speech.hints import HintMatch, hint_index
from voice.speech.workers import run_cpu

MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_SIMILARITY_FLOOR = 0.35

DIDNT_CATCH = "I didn't catch that, can you say it another way?"
NO_MORE_HINTS = "You have heard all my hints! Try them one more time, step by step. I know you can do it!"
NO_LEVEL_HINTS = "Let's look at the level together. Which part is tricky? Tell me what you see."
# A picture was shared but this brain cannot see: it says so, and asks (never pretends to have looked).
CANNOT_LOOK = "I can't look at pictures right now. Can you tell me what you see on the screen?"

# Requests that are not about one topic: the brain answers them with the next hint not yet given.
HELP_REQUEST = Hint(
    topic="asking for help",
    text="",
    examples=(
        "can you give me a hint",
        "help me please",
        "I'm stuck",
        "I don't know what to do",
        "what do I do now",
        "this is too hard",
    ),
)
GREETING = Hint(
    topic="saying hello",
    text="Hi there! I'm your game helper. Tell me which part is tricky, and I'll give you a hint.",
    examples=("hello", "hi", "hey helper", "good morning", "who are you"),
)
THANKS = Hint(
    topic="saying thank you",
    text="You're welcome! You're doing great. Keep going!",
    examples=("thank you", "thanks", "I did it", "it worked", "yay I got it"),
)
CONVERSATION_HINTS: tuple[Hint, ...] = (HELP_REQUEST, GREETING, THANKS)


class OfflineHintBrain:
    """Chooses the authored hint whose topic or example questions are closest in meaning to what the child said."""

    def __init__(self, *, similarity_floor: float = DEFAULT_SIMILARITY_FLOOR) -> None:
        self.similarity_floor = similarity_floor

    @property
    def mode(self) -> Mode:
        return Mode.OFFLINE

    @property
    def model(self) -> str:
        return MODEL_NAME

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        return await run_cpu(self.answer, context, history, text)

    def answer(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        """The blocking part of :meth:`reply`; runs in the engine's worker pool."""
        if context.picture is not None:  # game-aware helper: a shared picture is answered honestly
            return self._reply(CANNOT_LOOK, topic="a shared picture", score=1.0)
        # game-aware helper: the hints about where the game says the child is come first
        level_hints = order_by_game_state(context.level.hints, context.game_state)
        ranked = hint_index(level_hints + CONVERSATION_HINTS).rank(text)
        if not ranked or ranked[0].score < self.similarity_floor:
            return self._reply(DIDNT_CATCH, topic="", score=ranked[0].score if ranked else 0.0)
        best = ranked[0]
        if best.hint is HELP_REQUEST:
            return self._next_unheard_hint(level_hints, history, best.score)
        if best.hint in (GREETING, THANKS):
            return self._reply(best.hint.text, topic=best.hint.topic, score=best.score)
        chosen = self._avoid_repeating(ranked, history)
        return self._reply(chosen.hint.text, topic=chosen.hint.topic, score=chosen.score)

    def _avoid_repeating(self, ranked: list[HintMatch], history: Sequence[Turn]) -> HintMatch:
        last = _last_helper_text(history)
        best = ranked[0]
        if best.hint.text != last:
            return best
        for candidate in ranked[1:]:
            fits = candidate.score >= self.similarity_floor and candidate.hint not in CONVERSATION_HINTS
            if fits and candidate.hint.text != last:
                return candidate
        return best

    def _next_unheard_hint(self, level_hints: tuple[Hint, ...], history: Sequence[Turn], score: float) -> Reply:
        if not level_hints:
            return self._reply(NO_LEVEL_HINTS, topic=HELP_REQUEST.topic, score=score)
        heard = {turn.text for turn in history if turn.speaker is Speaker.ASSISTANT}
        for hint in level_hints:
            if hint.text not in heard:
                return self._reply(hint.text, topic=hint.topic, score=score)
        return self._reply(NO_MORE_HINTS, topic=HELP_REQUEST.topic, score=score)

    def _reply(self, text: str, *, topic: str, score: float) -> Reply:
        return Reply(text=text, mode=Mode.OFFLINE, model=MODEL_NAME, details={"topic": topic, "score": f"{score:.3f}"})


def _last_helper_text(history: Sequence[Turn]) -> str:
    for turn in reversed(history):
        if turn.speaker is Speaker.ASSISTANT:
            return turn.text
    return ""
