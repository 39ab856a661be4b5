"""Personal details taken out of transcripts before they are stored: children say them without thinking.

Rules, not a model: what a child gives away follows a few cues ("my name is", "call me", "I go to … School",
"I live on", "my number is"), and transcripts from speech recognition are often lower case and unpunctuated,
where a named-entity model trained on news text does poorly anyway. The rules and their measured recall and
false positives are in tests/voice/test_redaction_corpus.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

PLACEHOLDERS = {
    "email": "[email]",
    "phone": "[phone number]",
    "address": "[address]",
    "name": "[name]",
    "school": "[school]",
}

_APOSTROPHE = "['\u2019]"
_DIGIT_WORDS = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|double|triple)"
_NUMBER_WORDS = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"double|triple)"
)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_COUNTING = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]

# --- E-mail ---------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_TLD = r"(?:com|org|net|co|uk|edu|io|us|ca|au|de|fr|ie|nz|me)"
_SPOKEN_EMAIL = re.compile(
    rf"\b(?:[\w-]+\s+(?:dot|underscore|dash)\s+)*[\w-]+\s+at\s+[\w-]+(?:\s+dot\s+[a-z]+)*?\s+dot\s+{_TLD}\b",
    re.IGNORECASE,
)

# --- Addresses ---------------------------------------------------------------------------------------------
_STREET_KIND = (
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|way|boulevard|blvd|place|pl|close|crescent|"
    r"terrace|square|grove|gardens|parkway|circle|row|mews)"
)
_HOUSE_NUMBER = rf"(?:\d{{1,5}}[a-z]?|{_NUMBER_WORDS}(?:[\s-]+{_NUMBER_WORDS}){{0,3}})"
_STREET_WORD = rf"(?!(?:and|or|my|our|the|a|is|in|on|at|to)\s)[A-Za-z{_APOSTROPHE[1:-1]}]+"
_STREET = re.compile(rf"\b{_HOUSE_NUMBER}\s+(?:{_STREET_WORD}\s+){{1,3}}{_STREET_KIND}\b\.?", re.IGNORECASE)
_CLAUSE_REST = r"(?:(?!\s+(?:and|but|because|so|then)\b)[^.!?,;])+"
_ADDRESS_CUE = re.compile(
    rf"\b((?:I|we)\s+live\s+(?:at|on|in)|(?:my|our)\s+(?:address|street|road)\s+is|(?:my|our)\s+(?:house|home|flat|apartment)"
    rf"\s+is\s+(?:at|on|in)|(?:my|our)\s+(?:zip|post)\s*code\s+is)\s+"
    # "I live in a castle in the game" names no place.
    rf"(?!(?:a|an|the|this|that|my|our|your)\b){_CLAUSE_REST}",
    re.IGNORECASE,
)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")

# --- Phone numbers -----------------------------------------------------------------------------------------
_PHONE = re.compile(r"(?<!\w)(?:\+?\d[\s().-]*){7,}\d(?!\w)")
_DIGIT_TOKEN = rf"(?:{_DIGIT_WORDS}|\d+)"
_SPOKEN_PHONE = re.compile(rf"\b{_DIGIT_TOKEN}(?:[\s,.-]+{_DIGIT_TOKEN}){{6,}}\b", re.IGNORECASE)
_NUMBER_CUE = re.compile(
    rf"\b((?:phone|telephone|mobile|cell|home)\s+number\s+is|(?:my|his|her|our)\s+number\s+is|call\s+(?:us|me)\s+on)"
    rf"\s+{_DIGIT_TOKEN}(?:[\s,.-]+{_DIGIT_TOKEN})+\b",
    re.IGNORECASE,
)

# --- Names -------------------------------------------------------------------------------------------------
_PEOPLE = (
    r"friend|brother|sister|mom|mum|mommy|mummy|mother|dad|daddy|father|teacher|cousin|granny|grandma|nana|"
    r"grandpa|grandad|auntie|aunt|uncle|baby|neighbou?r"
)
# After these a child names someone, whatever the case of the transcript.
_NAME_CUE = re.compile(
    rf"\b(?:(?:first|last|full|real|middle|nick|sur)\s*)?name(?:{_APOSTROPHE}s|\s+is|\s+was)\s+"
    rf"|\bmy\s+names\s+"  # "my name's" as speech recognition spells it
    rf"|\b(?:{_PEOPLE})(?:{_APOSTROPHE}s)?\s+(?:is\s+|was\s+)?(?:called|named)\s+"
    rf"|\b(?:I{_APOSTROPHE}m|I\s+am|we{_APOSTROPHE}re|we\s+are)\s+(?:called|named)\s+"
    rf"|\b(?:call|calls)\s+(?:me|him|her)\s+",
    re.IGNORECASE,
)
# After these only a capitalised word is a name: "I'm Emma" but "I'm stuck".
_WEAK_NAME_CUE = re.compile(rf"\b(?:I{_APOSTROPHE}?m|I\s+am|this\s+is|it{_APOSTROPHE}s\s+me,?)\s+", re.IGNORECASE)
_WORD = re.compile(rf"[A-Za-z][A-Za-z{_APOSTROPHE[1:-1]}-]*(?:\.(?=\s+[A-Z]))?")
MAX_NAME_WORDS = 4
# Words that end a name (or show that what follows a cue is not one): "my name is on the door".
_NOT_A_NAME = _words(
    """
    a an the and or but so nor then than because if when while where what who whom whose which why how that
    this these those there here it its is was are were be been being am do does did done has have had will would
    can could should shall may might must not no yes yeah yep nope too also really very just only even still
    now later soon back again once twice please thanks thank sorry ok okay hi hello hey bye um uh er like
    i me my mine myself you your yours he him his she her hers we us our ours they them their theirs
    on in at to of for with from by about into onto over under up down out off near after before
    one two three four five six seven eight nine ten eleven twelve
    written spelt spelled wrong right long short funny silly secret hard easy cool nice weird same different
    new old big small little
    """
)
# Capitalised words that still are no name after "I'm" (sentence case, headings, shouting).
_NOT_A_NAME_AFTER_WEAK_CUE = _NOT_A_NAME | _words(
    """
    stuck sure done ready tired bored happy sad confused lost going trying playing thinking stuck good fine
    great hungry scared excited finished winning losing level years year old here home gonna going
    """
)

# --- Schools -----------------------------------------------------------------------------------------------
_SCHOOL_KIND = _words("school academy elementary primary kindergarten preschool pre-school nursery college montessori")
# Words a school's name is built around that name no school by themselves: "high school", "my new school".
_GENERIC_SCHOOL_WORDS = _words(
    """
    high middle junior senior elementary primary secondary public private local big little new old grade infant
    infants day summer sunday boarding art music dance swimming football drama whole own real other same best
    """
)
_SCHOOL_NAME_ENDS = _NOT_A_NAME | _words("go goes went attend attends going")
MAX_SCHOOL_NAME_WORDS = 4


def redact(text: str) -> str:
    """The text with e-mail addresses, phone numbers, addresses, school names and people's names replaced."""
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _SPOKEN_EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _redact_schools(text)
    text = _STREET.sub(PLACEHOLDERS["address"], text)
    text = _ADDRESS_CUE.sub(lambda m: f"{m.group(1)} {PLACEHOLDERS['address']}", text)
    text = _UK_POSTCODE.sub(PLACEHOLDERS["address"], text)
    text = _NUMBER_CUE.sub(lambda m: f"{m.group(1)} {PLACEHOLDERS['phone']}", text)
    text = _PHONE.sub(PLACEHOLDERS["phone"], text)
    text = _SPOKEN_PHONE.sub(_spoken_phone, text)
    text = _redact_names_after(_NAME_CUE, text, lambda word: word.lower() not in _NOT_A_NAME)
    return _redact_names_after(_WEAK_NAME_CUE, text, _capitalised_name)


def _spoken_phone(match: re.Match[str]) -> str:
    words = [word.lower() for word in re.split(r"[\s,.-]+", match.group()) if word]
    # A child counting ("one two three four five six seven") is not reading out a number.
    if all(word in _COUNTING for word in words):
        steps = [_COUNTING.index(b) - _COUNTING.index(a) for a, b in itertools.pairwise(words)]
        if all(step == 1 for step in steps) or all(step == -1 for step in steps):
            return match.group()
    return PLACEHOLDERS["phone"]


def _capitalised_name(word: str) -> bool:
    return word[0].isupper() and word.lower().rstrip(".") not in _NOT_A_NAME_AFTER_WEAK_CUE


def _redact_names_after(cue: re.Pattern[str], text: str, is_name: Callable[[str], bool]) -> str:
    """Replace the run of name words (at most MAX_NAME_WORDS) right after each cue."""
    pieces: list[str] = []
    position = 0
    for found in cue.finditer(text):
        if found.start() < position:
            continue
        end = found.end()
        name_end = None
        for _ in range(MAX_NAME_WORDS):
            word = _WORD.match(text, end)
            if word is None or not is_name(word.group()) or word.group().startswith("["):
                break
            name_end = word.end()
            gap = re.match(r"[ \t]+", text[name_end:])
            end = name_end + (gap.end() if gap else 0)
            if gap is None:
                break
        if name_end is not None:
            pieces.append(text[position : found.end()] + PLACEHOLDERS["name"])
            position = name_end
    pieces.append(text[position:])
    return "".join(pieces)


_TOKEN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9{_APOSTROPHE[1:-1]}.-]*")


def _redact_schools(text: str) -> str:
    """Replace "<name words> School/Academy/Elementary…" when at least one word is more than a generic one."""
    tokens = list(_TOKEN.finditer(text))
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(tokens):
        if _bare(tokens[index]) not in _SCHOOL_KIND:
            index += 1
            continue
        last = index
        while last + 1 < len(tokens) and _bare(tokens[last + 1]) in _SCHOOL_KIND and _adjacent(text, tokens, last):
            last += 1
        first = index
        while (
            first > 0
            and index - first < MAX_SCHOOL_NAME_WORDS
            and _adjacent(text, tokens, first - 1)
            and _bare(tokens[first - 1]) not in _SCHOOL_NAME_ENDS
        ):
            first -= 1
        name_words = [_bare(token) for token in tokens[first:index]]
        if any(word not in _GENERIC_SCHOOL_WORDS for word in name_words):
            spans.append((tokens[first].start(), tokens[last].end()))
        index = last + 1
    for start, end in reversed(spans):
        text = text[:start] + PLACEHOLDERS["school"] + text[end:]
    return text


def _bare(token: re.Match[str]) -> str:
    return token.group().lower().rstrip(".")


def _adjacent(text: str, tokens: list[re.Match[str]], left: int) -> bool:
    """True when only spaces separate token ``left`` from the next one (no comma or full stop)."""
    return not text[tokens[left].end() : tokens[left + 1].start()].strip()
