"""An output check on the helper's words: flags a reply that gives the answer away or asks for personal data.

Audio already played cannot be taken back; the flag marks the stored message for the studio to review.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

GIVES_ANSWER = "gives_answer"
ASKS_PERSONAL_DATA = "asks_personal_data"

_PERSONAL_QUESTIONS = re.compile(
    r"\b(?:what(?:'s| is) your (?:name|full name|address|phone|number|school|email|e-mail|password)"
    r"|where do you live|how old are you|what school|which school|your (?:home )?address"
    r"|your (?:phone|telephone) number|your e-?mail|your password|your last name|your surname"
    r"|send (?:me )?a (?:photo|picture))\b",
    re.IGNORECASE,
)


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.strip())}(?!\w)", text, re.IGNORECASE) is not None


def check_reply(text: str, answers: Sequence[str]) -> list[str]:
    """The flags a helper reply earns; empty when it is fine."""
    flags = []
    if any(answer.strip() and _mentions(text, answer) for answer in answers):
        flags.append(GIVES_ANSWER)
    if _PERSONAL_QUESTIONS.search(text):
        flags.append(ASKS_PERSONAL_DATA)
    return flags
