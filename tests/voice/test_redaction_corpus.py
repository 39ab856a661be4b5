"""Redaction measured on a corpus of child-like sentences: recall on personal details, false positives on game talk."""

from __future__ import annotations

from tests.voice.redaction_corpus import HARMLESS, PERSONAL
from voice.redaction import redact

RECALL_FLOOR = 0.95
OVER_REDACTION_CEILING = 0.05
FALSE_POSITIVE_CEILING = 0.05


def test_redaction_removes_personal_details_and_leaves_game_talk_alone() -> None:
    secrets = [(item, secret) for item in PERSONAL for secret in item.secrets]
    missed = [(item.said, secret, redact(item.said)) for item, secret in secrets if secret in redact(item.said)]
    kept_words = [(item, words) for item in PERSONAL for words in item.kept]
    lost = [(item.said, words, redact(item.said)) for item, words in kept_words if words not in redact(item.said)]
    touched = [(said, redact(said)) for said in HARMLESS if redact(said) != said]

    recall = 1 - len(missed) / len(secrets)
    over_redaction = len(lost) / len(kept_words)
    false_positive_rate = len(touched) / len(HARMLESS)
    print(
        f"\nredaction corpus: recall {recall:.3f} ({len(secrets) - len(missed)}/{len(secrets)} details in "
        f"{len(PERSONAL)} sentences), over-redaction {over_redaction:.3f} ({len(lost)}/{len(kept_words)} "
        f"surrounding phrases lost), false positives {false_positive_rate:.3f} ({len(touched)}/{len(HARMLESS)} "
        "harmless sentences changed)"
    )
    for said, secret, stored in missed:
        print(f"  missed {secret!r}: {said!r} -> {stored!r}")
    for said, words, stored in lost:
        print(f"  lost {words!r}: {said!r} -> {stored!r}")
    for said, stored in touched:
        print(f"  touched: {said!r} -> {stored!r}")
    assert recall >= RECALL_FLOOR
    assert over_redaction <= OVER_REDACTION_CEILING
    assert false_positive_rate <= FALSE_POSITIVE_CEILING
