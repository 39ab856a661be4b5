"""What the child is doing with their words: greeting, thanking, celebrating, guessing the answer, asking for help.

Small, deterministic rules over normalised words; the meaning of questions about the level is left to the
sentence embeddings (:mod:`voice.speech.hints`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Sounds a recogniser or a child produces that carry no meaning: "um" alone was not heard as anything useful.
FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "hmm", "hm", "mm", "ah", "oh", "eh"})

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
NUMBER_WORDS: dict[str, int] = {**{word: value for value, word in enumerate(_UNITS)}, **_TENS}

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CONTRACTIONS = {"it's": "it is", "that's": "that is", "there's": "there is", "what's": "what is", "i'm": "i am"}


def words(text: str) -> list[str]:
    """Lower-case words with contractions spelled out and spoken numbers as digits ("twenty one" → "21")."""
    raw: list[str] = []
    for word in _WORD.findall(text.lower().replace("\u2019", "'")):
        raw.extend(_CONTRACTIONS.get(word, word).split())
    out: list[str] = []
    for word in raw:
        if word in NUMBER_WORDS:
            value = NUMBER_WORDS[word]
            if out and out[-1].isdigit() and int(out[-1]) in _TENS.values() and 0 < value < 10:
                out[-1] = str(int(out[-1]) + value)  # "twenty" "one"
                continue
            out.append(str(value))
        else:
            out.append(word)
    return out


def heard_nothing_useful(text: str) -> bool:
    """True when there are no words, or only fillers: the one case for "I didn't catch that"."""
    return all(word in FILLERS for word in words(text))


class Intent(enum.Enum):
    GREETING = "greeting"
    THANKS = "thanks"
    CELEBRATION = "celebration"  # "I did it!"
    HELP = "help"  # a request for help that names no topic: "I'm stuck", "I don't get it"
    OTHER = "other"  # a question about the level, or talk about something else: the embeddings decide


_CELEBRATION = re.compile(
    r"\b(?:i|we) (?:did|done|finished|solved|beat|won|passed|got) it\b|\bit worked\b|\bi (?:won|win)\b"
    r"|\byay\b|\bhooray\b|\bwoo+ ?hoo+\b|\bi am done\b|\bi finished\b|\bi solved\b"
)
_THANKS = re.compile(r"\bthanks?\b|\bthank you\b|\bthankyou\b|\bthx\b|\bcheers\b")
_GREETING_WORDS = frozenset(
    {"hi", "hello", "hey", "hiya", "howdy", "morning", "afternoon", "evening", "good", "helper", "there", "yo"}
)
_HELP = re.compile(
    r"\bhelp\b|\bhint\b|\bclue\b|\bstuck\b|\btoo hard\b|\bconfus"
    r"|\bi (?:still |really |just )?(?:do not|don't|dont) (?:get|understand|know)\b"
    r"|\bwhat (?:do|should|can) i do\b|\bwhat now\b|\bwhat do you mean\b"
    r"|\bi can't do it\b|\bi cannot do it\b|\bhow do i do (?:it|this)\b"
)


def intent_of(text: str) -> Intent:
    """The social intent of ``text``; a question about the level is :attr:`Intent.OTHER`."""
    said = " ".join(words(text))
    if _CELEBRATION.search(said):
        return Intent.CELEBRATION
    if _HELP.search(said):
        return Intent.HELP
    if _THANKS.search(said):
        return Intent.THANKS
    meaningful = [word for word in said.split() if word not in FILLERS]
    if meaningful and meaningful[0] in _GREETING_WORDS and all(w in _GREETING_WORDS for w in meaningful):
        return Intent.GREETING
    if meaningful and meaningful[0] in {"hi", "hello", "hey", "hiya"} and len(meaningful) <= 3:
        return Intent.GREETING  # "hello robot", "hi there friend"
    return Intent.OTHER


_PLAYING = re.compile(
    r"\b(?:how (?:do|can|should) (?:i|we|you)|how to|where (?:is|are|do|does|did|can)|what (?:do|does|should) (?:i|we)"
    r"|which (?:one|button|way)|can't|cannot|can not|won't|will not|doesn't|does not|isn't working|not working"
    r"|why (?:can't|won't|doesn't|does|did|is))\b"
)


def asks_about_playing(text: str) -> bool:
    """True for a question about doing something ("how do I …", "where is …", "it won't …"), whatever the topic."""
    return bool(_PLAYING.search(" ".join(words(text))))


class Attempt(enum.Enum):
    NONE = "none"
    RIGHT = "right"
    WRONG = "wrong"


# Ways a child offers an answer: "is it 7", "it's seven", "the answer is under the rug", "I think 8".
_GUESS_FRAME = re.compile(
    r"^(?:(?:so|and|um|uh|ok|okay|well|hmm)\s+)*"
    r"(?:is it|is that|is the answer|the answer is|answer is|it is|i think(?: it is| that is)?|maybe(?: it is)?"
    r"|i guess|could it be|what about|how about)\b"
)
# Ways a child reports a count or a result ("I counted 8", "there are 7"): an attempt when it holds a number.
_REPORT_FRAME = re.compile(
    r"\b(?:i (?:got|counted|typed|put|have|said)|there are|there is|i see|makes?|equals|is all)\b"
)
_SHORT = 3  # words: "seven", "is it 7", "cat?" are attempts without a frame


@dataclass(frozen=True)
class AnswerKey:
    """A level's answers, normalised once: word sequences, and the numbers among them."""

    phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, answers: Sequence[str]) -> AnswerKey:
        phrases: list[tuple[str, ...]] = []
        for answer in answers:
            tokens = tuple(words(answer))
            if not tokens:
                continue
            phrases.append(tokens)
            if len(tokens) > 1 and all(len(token) == 1 and token.isalpha() for token in tokens):
                phrases.append(("".join(tokens),))  # "C A T" is also said as "cat"
        return cls(tuple(dict.fromkeys(phrases)))

    @property
    def numeric(self) -> bool:
        return any(len(phrase) == 1 and phrase[0].isdigit() for phrase in self.phrases)

    def check(self, text: str) -> Attempt:
        """Whether ``text`` offers the level's answer: right, wrong, or not an attempt at all.

        A long answer ("under the blue rug") counts wherever it is said; a one-word answer ("7", "cat") only
        when the child offers it ("is it 7?", "seven!"), so that "I am seven years old" is not taken as an answer.
        A wrong attempt is recognised for numbers, and for other answers only when framed as a guess.
        """
        if not self.phrases:
            return Attempt.NONE
        said = [word for word in words(text) if word not in FILLERS]
        joined = " ".join(said)
        if "or" in said and len({word for word in said if word.isdigit()}) > 1:
            return Attempt.NONE  # "is it 7 or 8?" is a question, not an answer to confirm
        guessing = bool(_GUESS_FRAME.search(joined))
        offered = guessing or len(said) <= _SHORT or bool(_REPORT_FRAME.search(joined))
        for phrase in self.phrases:
            if _contains(said, phrase) and (len(phrase) > 1 or offered):
                return Attempt.RIGHT
        has_number = any(word.isdigit() for word in said)
        if self.numeric and has_number and offered and not _ARITHMETIC.search(joined):
            return Attempt.WRONG
        if not self.numeric and guessing and len(said) > 2:
            return Attempt.WRONG
        return Attempt.NONE

    def mentioned_in(self, text: str) -> bool:
        """True when ``text`` says any answer, even a one-word one, anywhere (a check on what the helper says)."""
        said = [word for word in words(text) if word not in _LIST_WORDS]  # "C, A and T" spells "C A T"
        return any(_contains(said, phrase) for phrase in self.phrases)


_LIST_WORDS = frozenset({"and", "then"})
_ARITHMETIC = re.compile(r"\b(?:plus|minus|add|times|take away|and)\b")


def _contains(said: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return any(tuple(said[i : i + size]) == tuple(phrase) for i in range(len(said) - size + 1))


_PROGRESS = re.compile(
    r"\b(?:i|we) (?:got|have|found|picked up|grabbed|took|opened) (?:the |a |an |my )?((?:\w+ ?){1,3})"
)
_FINDING = re.compile(r"\b(?:find|finding|get|getting|look|looking|search|searching|where)\b")


def already_done(text: str, topic: str) -> bool:
    """True when the child says they already have what a hint's topic is about finding ("I got the key")."""
    progress = _PROGRESS.search(" ".join(words(text)))
    if progress is None or not _FINDING.search(topic.lower()):
        return False
    things = {word for word in progress.group(1).split() if len(word) > 2}
    return bool(things & set(words(topic)))
