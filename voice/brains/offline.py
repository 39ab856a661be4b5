"""The offline hint brain: a small tutor that answers from the level's authored hints; nothing leaves the machine.

Each turn it first recognises what the child is doing (an answer attempt, "I did it", thanks, a greeting, a
request for help), then finds the hint the child asks about by meaning, and climbs that hint's ladder from
gentle to specific when the child asks about the same thing again. It never says the answer.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence

from voice.brains.understanding import (
    AnswerKey,
    Attempt,
    Intent,
    already_done,
    asks_about_playing,
    heard_nothing_useful,
    intent_of,
)
from voice.context import ConversationContext, Hint, LevelContext, Mode, Reply, Speaker, Turn
from voice.game_state import order_by_game_state
from voice.speech.hints import HintMatch, hint_index
from voice.speech.workers import run_cpu

MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_SIMILARITY_FLOOR = 0.35
# A request for help that also names a topic this clearly ("help me open the red door") is about that topic.
CLEAR_TOPIC_SCORE = 0.55

DIDNT_CATCH = "I didn't catch that, can you say it another way?"
GREETING = "Hi there! I'm your game helper. Tell me which part is tricky, and I'll give you a hint."
THANKS = "You're welcome! You're doing great. Keep going!"
CELEBRATION = "Hooray, you did it! I'm so proud of you. You kept on trying!"
# Said when the child offers the right answer: warm, and never the answer itself.
RIGHT_ANSWER = (
    "Yes, that's it! You worked it out all by yourself. Now try it in the game!",
    "You got it! Great thinking. Go on and try it in the game!",
)
WRONG_ANSWER = "Good try! Not quite yet."
ONCE_MORE = "Let's try it once more, step by step."
NO_MORE_HINTS = "You have heard all my hints! Try them one more time, step by step. I know you can do it!"
BACK_TO_THE_GAME = "Let's get back to the game together."
# A picture was shared but this brain cannot see: it says so, and asks (never pretends to have looked).
CANNOT_LOOK = "I can't look at pictures right now. Can you tell me what you see on the screen?"
# Help from the level's description alone, for a level without authored hints; gentle to specific.
LOOK_TOGETHER = "Let's look at it together."
WHAT_DO_YOU_SEE = "What do you see on the screen right now?"
DESCRIPTION_STEPS = (
    "Try one small step, then tell me what happens. What have you tried so far?",
    "Look at every part of the screen, slowly. Is there something you can tap or move? Try it!",
)


class OfflineHintBrain:
    """Recognises what the child is doing, then answers with the right step of the right authored hint."""

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
        if context.picture is not None:  # a shared picture is answered honestly: this brain cannot see
            return _reply(CANNOT_LOOK, intent="picture")
        if heard_nothing_useful(text):
            return _reply(DIDNT_CATCH, intent="unclear")
        # The hints about where the game says the child is come first.
        level = dataclasses.replace(context.level, hints=order_by_game_state(context.level.hints, context.game_state))
        said_before = [turn.text for turn in history if turn.speaker is Speaker.ASSISTANT]
        key = _answer_key(level.answers)
        attempt = key.check(text)
        if attempt is Attempt.RIGHT:
            return _reply(RIGHT_ANSWER[len(said_before) % len(RIGHT_ANSWER)], intent="right_answer")
        intent = intent_of(text)
        if attempt is Attempt.NONE and intent is Intent.CELEBRATION:
            return _reply(CELEBRATION, intent="celebration")
        if attempt is Attempt.NONE and intent is Intent.GREETING:
            return _reply(GREETING, intent="greeting")
        # Only now the sentence embedding: the turns above are recognised by their words alone.
        topic = self._topic_asked_about(level.hints, text)
        if attempt is Attempt.WRONG and (key.numeric or topic is None):
            help_text, hint = _general_help(level, said_before)
            return _reply(f"{WRONG_ANSWER} {help_text}", intent="wrong_answer", hint=hint)
        if intent is Intent.THANKS and topic is None:
            return _reply(THANKS, intent="thanks")
        if intent is Intent.HELP and (topic is None or topic.score < CLEAR_TOPIC_SCORE):
            help_text, hint = _general_help(level, said_before)
            return _reply(help_text, intent="help", hint=hint)
        if topic is not None:
            return _reply(_next_step(topic.hint, said_before), intent="question", hint=topic.hint, score=topic.score)
        if asks_about_playing(text) or self._about_the_description(level, text):
            help_text, hint = _general_help(level, said_before)
            return _reply(help_text, intent="help", hint=hint)
        goal = goal_of(level)
        return _reply(" ".join(filter(None, (BACK_TO_THE_GAME, goal, "Which part is tricky?"))), intent="off_topic")

    def _about_the_description(self, level: LevelContext, text: str) -> bool:
        """For a level without hints: whether the child's words are close in meaning to its description."""
        if level.hints or not level.description.strip():
            return False
        clauses = tuple(c.strip() for c in _CLAUSE_END.split(_ASIDE.sub("", level.description)) if c.strip())
        ranked = hint_index((Hint(topic=level.title, text="", examples=clauses),)).rank(text)
        return bool(ranked) and ranked[0].score >= self.similarity_floor

    def _topic_asked_about(self, hints: tuple[Hint, ...], text: str) -> HintMatch | None:
        """The best hint above the floor, passing over one about finding what the child says they have."""
        if not hints:
            return None
        for match in hint_index(hints).rank(text):
            if match.score < self.similarity_floor:
                return None
            if not already_done(text, match.hint.topic):
                return match
        return None


@functools.lru_cache(maxsize=256)
def _answer_key_cached(answers: tuple[str, ...]) -> AnswerKey:
    return AnswerKey.of(answers)


def _answer_key(answers: Sequence[str]) -> AnswerKey:
    return _answer_key_cached(tuple(answers))


def _steps_heard(hint: Hint, said_before: Sequence[str]) -> int:
    """How many of the hint's steps the child has heard: the ladder is climbed in order."""
    heard = 0
    for step in hint.steps:
        if not any(step in said for said in said_before):
            break
        heard += 1
    return heard


def _next_step(hint: Hint, said_before: Sequence[str]) -> str:
    heard = _steps_heard(hint, said_before)
    if heard < len(hint.steps):
        return hint.steps[heard]
    return f"{ONCE_MORE} {hint.steps[-1]}"


def _general_help(level: LevelContext, said_before: Sequence[str]) -> tuple[str, Hint | None]:
    """Help that names no topic: the next step of the hint being worked on, else the next hint not yet heard."""
    if not level.hints:
        return _description_help(level, said_before), None
    last = said_before[-1] if said_before else ""
    current = next((hint for hint in level.hints if any(step in last for step in hint.steps)), None)
    if current is not None and _steps_heard(current, said_before) < len(current.steps):
        return _next_step(current, said_before), current
    for hint in level.hints:
        if _steps_heard(hint, said_before) == 0:
            return hint.text, hint
    for hint in level.hints:
        if _steps_heard(hint, said_before) < len(hint.steps):
            return _next_step(hint, said_before), hint
    return NO_MORE_HINTS, None


def _description_help(level: LevelContext, said_before: Sequence[str]) -> str:
    """A level without authored hints: read back its goal and ask what the child sees, then small strategies."""
    first = " ".join(filter(None, (LOOK_TOGETHER, goal_of(level), WHAT_DO_YOU_SEE)))
    for step in (first, *DESCRIPTION_STEPS):
        if not any(step in said for said in said_before):
            return step
    return DESCRIPTION_STEPS[-1]


_CLAUSE_END = re.compile(r"[.;!?]+\s*")
_ASIDE = re.compile(r"\s*\([^)]*\)")
_GOAL_WORDS = re.compile(r"\b(?:must|needs? to|has to|have to|goal|tries to|try to|should|to reach|to get|to find)\b")
_TO_THE_CHILD = (
    (re.compile(r"\bthe (?:child|player)(?:'s|\u2019s)", re.IGNORECASE), "your"),
    (re.compile(r"\bthe (?:child|player) (?:must|has to|needs to)\b", re.IGNORECASE), "you need to"),
    (re.compile(r"\bthe (?:child|player) (?:is|was)\b", re.IGNORECASE), "you are"),
    (re.compile(r"\bthe (?:child|player)\b", re.IGNORECASE), "you"),
)


def authored_replies(level: LevelContext) -> list[str]:
    """What this tutor may say on the level that is known before the child speaks, likeliest first: every
    step of every hint, the level's goal, and the tutor's own phrases. A reply is made of these sentences (a
    wrong answer's "Good try! Not quite yet." and a hint step, say), so speech made ahead covers it."""
    firsts = [hint.steps[0] for hint in level.hints if hint.steps]
    later = [step for hint in level.hints for step in hint.steps[1:]]
    own = [GREETING, DIDNT_CATCH, WRONG_ANSWER, *RIGHT_ANSWER, CELEBRATION, THANKS, ONCE_MORE, NO_MORE_HINTS]
    description = [LOOK_TOGETHER, WHAT_DO_YOU_SEE, *DESCRIPTION_STEPS] if not level.hints else []
    rest = [BACK_TO_THE_GAME, goal_of(level), "Which part is tricky?", CANNOT_LOOK]
    return list(dict.fromkeys(text for text in (*firsts, *description, *own, *later, *rest) if text))


def goal_of(level: LevelContext) -> str:
    """The level's goal read back to the child from its description ("In this level, you need to …").

    The description is written for the helper and may hold the solution, so asides in brackets are dropped
    and a clause that names one of the level's answers is never read back.
    """
    description = _ASIDE.sub("", level.description)
    clauses = [clause.strip() for clause in _CLAUSE_END.split(description) if clause.strip()]
    key = _answer_key(level.answers)
    safe = [clause for clause in clauses if not key.mentioned_in(clause)]
    goal = next((clause for clause in safe if _GOAL_WORDS.search(clause.lower())), None)
    if goal is None:
        return f"This level: {safe[0]}." if safe else ""
    for pattern, replacement in _TO_THE_CHILD:
        goal = pattern.sub(replacement, goal)
    return f"In this level, {goal[0].lower()}{goal[1:]}."


def _reply(text: str, *, intent: str, hint: Hint | None = None, score: float | None = None) -> Reply:
    details = {"intent": intent, "topic": hint.topic if hint else ""}
    if score is not None:
        details["score"] = f"{score:.3f}"
    return Reply(text=text, mode=Mode.OFFLINE, model=MODEL_NAME, details=details)
