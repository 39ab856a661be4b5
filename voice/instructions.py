"""The helper's behaviour rules, in one place, and the system instruction every brain is given."""

from __future__ import annotations

import re

from voice.context import ConversationContext, Hint

# Every mode's instructions include these rules verbatim; tests check that they are present.
BEHAVIOUR_RULES: tuple[str, ...] = (
    "Use short, simple words that a child of this age understands. Keep each reply to one to three short sentences.",
    "Be warm, patient and encouraging. Celebrate effort, not only success.",
    "Give hints, never the answer. Nudge the child one small step towards solving it themselves.",
    "Never ask for personal information: not their name, age, address, school, phone number or e-mail.",
    "If the child talks about something else, gently steer back to the game.",
    "Never discuss unsafe, scary, violent or grown-up topics. If the child raises one, say kindly that you "
    "can only help with the game, and suggest they talk to a grown-up they trust.",
)

HELPER_ROLE = (
    "You are a friendly helper inside a children's learning game. A child who is stuck on a level talks to you."
)


def age_guidance(child_age: int) -> str:
    if child_age <= 5:
        return "The child is very young: use very short sentences and everyday words, and one idea at a time."
    if child_age <= 7:
        return "Use short sentences and familiar words; one idea at a time."
    return "Use clear, simple sentences; you may give two small steps at once."


HINTS_HEADER = "Hints the game's authors wrote for this level (use them, in your own words):"
_HINT_LINE = re.compile(r"^- (?P<topic>[^:(]+?)(?: \(a child might ask: (?P<asks>[^)]*)\))?: (?P<text>.+)$")


def hints_from_instruction(instruction: str) -> tuple[Hint, ...]:
    """The hints in an instruction made by :func:`build_system_instruction` (the emulator reads them back)."""
    if HINTS_HEADER not in instruction:
        return ()
    hints = []
    for line in instruction.split(HINTS_HEADER, 1)[1].strip().splitlines():
        match = _HINT_LINE.match(line.strip())
        if match is None:
            break
        examples = tuple(a.strip() for a in (match["asks"] or "").split(" / ") if a.strip())
        hints.append(Hint(topic=match["topic"].strip(), text=match["text"].strip(), examples=examples))
    return tuple(hints)


def build_system_instruction(context: ConversationContext) -> str:
    """The system instruction for any brain: role, rules, the child's age, the level and its hints."""
    lines = [HELPER_ROLE, "", "Rules:"]
    lines += [f"- {rule}" for rule in BEHAVIOUR_RULES]
    lines += ["", f"The child is {context.child_age} years old. {age_guidance(context.child_age)}"]
    level = context.level
    lines += ["", f"The level: {level.title}." if level.title else "The level:", level.description.strip()]
    if level.hints:
        lines += ["", HINTS_HEADER]
        for hint in level.hints:
            asks = f" (a child might ask: {' / '.join(hint.examples)})" if hint.examples else ""
            lines.append(f"- {hint.topic}{asks}: {hint.text}")
    if context.initial_message:
        lines += ["", f"The game says about this moment: {context.initial_message.strip()}"]
    return "\n".join(lines).strip() + "\n"
