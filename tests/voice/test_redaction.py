"""Personal details are replaced before transcripts are stored."""

from __future__ import annotations

import pytest

from voice.redaction import redact


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("my email is sam.lee+games@example.co.uk ok", "my email is [email] ok"),
        ("it's sam at gmail dot com", "it's [email]"),
        ("call 555-123-4567 please", "call [phone number] please"),
        ("my number is +44 20 7946 0958", "my number is [phone number]"),
        ("five five five one two three four five six seven", "[phone number]"),
        ("I live at 42 Maple Street with my cat", "I live at [address]"),
        ("we are at 7 oak lane now", "we are at [address] now"),
        ("my name is Lily and I'm stuck", "my name is [name] and I'm stuck"),
        ("I'm called Tom", "I'm called [name]"),
        ("hi call me Bob", "hi call me [name]"),
        (
            "my name is Emma Johnson and I go to Oak Street Elementary",
            "my name is [name] and I go to [school]",
        ),
        ("call me Emma Johnson", "call me [name]"),
        ("I'm Emma Johnson", "I'm [name]"),
        ("i go to lincoln middle school", "i go to [school]"),
        ("my number is nine one two, four four five, six seven eight nine", "my number is [phone number]"),
    ],
)
def test_personal_details_become_placeholders(said: str, stored: str) -> None:
    assert redact(said) == stored


@pytest.mark.parametrize(
    "said",
    [
        "how do I open the red door",
        "is it three plus four",
        "I have 2 keys and 3 doors",
        "level 12 is hard",
        "call the dog",
        "I'm stuck on level three",
        "my name is on the door",
        "I go to school every day",
        "one two three four five six seven eight nine ten",
    ],
)
def test_ordinary_game_talk_is_left_alone(said: str) -> None:
    assert redact(said) == said
