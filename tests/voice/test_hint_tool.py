"""get_hint: answered from the authored ladders, gentle to specific, and never with one of the level's answers."""

from __future__ import annotations

from typing import Any

from voice.context import Hint, LevelContext
from voice.game_state import validate_game_state
from voice.hint_tool import HintCall, HintLadders, Specificity

DOOR = Hint(
    "opening the red door",
    "The red door needs something to open it.",
    ("how do I open the red door",),
    more_steps=("Doors like this open with a key.", "Find the key, then tap the door while you hold it."),
)
KEY = Hint(
    "finding the key",
    "Keys like to hide under things.",
    ("where is the key",),
    more_steps=("Look at the kitchen floor.", "The key is under the blue rug."),  # the last step says the answer
)
LEVEL = LevelContext("Castle", "A castle.", (DOOR, KEY), answers=("under the blue rug",))


def ask(
    ladders: HintLadders, topic: str, specificity: str = "next", state: dict[str, Any] | None = None
) -> dict[str, Any]:
    call = HintCall.from_arguments({"topic": topic, "specificity": specificity})
    return ladders.answer(call, LEVEL, validate_game_state(state) if state else None)


def test_asking_again_climbs_the_ladder_one_step_at_a_time_and_stays_at_the_top() -> None:
    ladders = HintLadders()
    said = [ask(ladders, "the red door")["hint"] for _ in range(4)]
    assert said == [*DOOR.steps, DOOR.steps[-1]]


def test_gentle_starts_over_and_specific_jumps_to_the_top() -> None:
    ladders = HintLadders()
    assert ask(ladders, "door", "specific")["hint"] == DOOR.steps[-1]
    assert ask(ladders, "door", "gentle")["hint"] == DOOR.steps[0]
    assert ask(ladders, "door")["step"] == 3, "the ladder remembers the highest step given"


def test_a_step_that_says_an_answer_is_never_given() -> None:
    ladders = HintLadders()
    answers = [ask(ladders, "where is the key", "next") for _ in range(3)]
    assert [a["hint"] for a in answers] == [KEY.steps[0], KEY.steps[1], KEY.steps[1]]
    assert all("blue rug" not in str(a) for a in answers)
    assert answers[-1]["more_specific_available"] is False


def test_no_topic_follows_the_game_state() -> None:
    answer = ask(HintLadders(), "", state={"step": "find the key"})
    assert answer["topic"] == "finding the key"


def test_odd_arguments_fall_back_to_the_next_step_of_the_first_hint() -> None:
    call = HintCall.from_arguments({"topic": 42, "specificity": "shout"})
    assert call == HintCall(topic="", specificity=Specificity.NEXT)
    assert HintLadders().answer(call, LEVEL)["hint"] == DOOR.steps[0]


def test_a_level_without_hints_says_so() -> None:
    answer = HintLadders().answer(HintCall(), LevelContext("", "A level.", ()))
    assert answer["found"] is False and "no hint" in answer["note"]
