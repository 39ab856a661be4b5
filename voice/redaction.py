"""Personal details taken out of transcripts before they are stored: children say them without thinking."""

from __future__ import annotations

import re

NUMBER_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|double|triple)"
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SPOKEN_EMAIL = re.compile(r"\b[\w.-]+\s+at\s+[\w-]+\s+dot\s+(?:com|org|net|co|uk|edu|io)\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\w)(?:\+?\d[\s().-]*){7,}\d(?!\w)")
_SPOKEN_PHONE = re.compile(rf"\b{NUMBER_WORDS}(?:[\s,-]+{NUMBER_WORDS}){{6,}}\b", re.IGNORECASE)
_STREET = re.compile(
    r"\b\d{1,5}\s+(?:[A-Za-z]+\s+){1,3}"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|way|boulevard|blvd|place|pl|close|crescent)\b\.?",
    re.IGNORECASE,
)
_LIVE_AT = re.compile(r"\b(I live (?:at|on|in))\s+[^.!?,]+", re.IGNORECASE)
_NAME = re.compile(r"\b(my name is|my name's|I'm called|I am called|call me)\s+([A-Za-z][\w'-]*)", re.IGNORECASE)

PLACEHOLDERS = {"email": "[email]", "phone": "[phone number]", "address": "[address]", "name": "[name]"}


def redact(text: str) -> str:
    """The text with e-mail addresses, phone numbers, street addresses and self-given names replaced."""
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _SPOKEN_EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _STREET.sub(PLACEHOLDERS["address"], text)
    text = _LIVE_AT.sub(lambda m: f"{m.group(1)} {PLACEHOLDERS['address']}", text)
    text = _PHONE.sub(PLACEHOLDERS["phone"], text)
    text = _SPOKEN_PHONE.sub(PLACEHOLDERS["phone"], text)
    return _NAME.sub(lambda m: f"{m.group(1)} {PLACEHOLDERS['name']}", text)
