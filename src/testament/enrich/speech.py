"""Speech: transcripts with times and the spoken language, by a Whisper model (faster-whisper).

The model is a folder the user provides (`TESTAMENT_SPEECH_MODEL`), in CTranslate2's
format with its tokenizer.json: faster-whisper is only ever given that path, so nothing
is fetched from a model hub at run time. Silence is skipped by faster-whisper's own
voice-activity detector (Silero, shipped in its wheel). The record names the model folder
and the digest of its weights, and the version includes that digest, so transcribing
again with another model adds a record and keeps the old one.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.analyser import AnalysisError, Found
from testament.enrich.audio import has_sound

MODEL_ENV = "TESTAMENT_SPEECH_MODEL"
DEVICE_ENV = "TESTAMENT_SPEECH_DEVICE"
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
SAMPLE_RATE = 16000  # what Whisper models hear
# Beam search at temperature 0 only: Whisper's fallback to sampling at higher temperatures
# gives another transcript on every run, and a transcript cited as evidence must come out
# the same when anyone runs it again. Recorded with each transcript.
DECODING = {"beam_size": 5, "temperature": 0.0, "vad_filter": True}


@cache
def weights_digest(path: Path, size: int, mtime_ns: int) -> str:
    """SHA-256 of the model's weights, once a process (a changed file has a new key)."""
    digest = hashlib.sha256()
    with path.open("rb") as weights:
        while block := weights.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def model_folder() -> Path | None:
    value = os.environ.get(MODEL_ENV, "").strip()
    return Path(value).expanduser() if value else None


def clamp(segments: list[dict[str, Any]], duration: float) -> list[dict[str, Any]]:
    """Segments within the sound: a model may put a time past the end of a short clip."""
    kept = []
    for segment in segments:
        if segment["start"] >= duration or not segment["text"]:
            continue
        kept.append(segment | {"end": round(min(segment["end"], duration), 2)})
    return kept


class Speech:
    """Transcription and spoken-language identification (faster-whisper, CTranslate2)."""

    name = "speech"
    tool = "faster-whisper"

    def __init__(self) -> None:
        self.folder = model_folder()
        self.device = os.environ.get(DEVICE_ENV, "auto").strip() or "auto"
        self.whisper: Any = None

    def missing(self) -> str | None:
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            return "speech: faster-whisper is not installed (pip install 'testament[speech]')"
        if self.folder is None:
            return (
                f"speech: no model configured (set {MODEL_ENV} to a faster-whisper model "
                "folder, e.g. a CTranslate2 conversion of Whisper large-v3)"
            )
        lacking = [name for name in MODEL_FILES if not (self.folder / name).is_file()]
        if lacking:
            return (
                f"speech: {self.folder} is not a faster-whisper model folder "
                f"(no {', '.join(lacking)})"
            )
        return None

    def _digest(self) -> str:
        assert self.folder is not None
        weights = self.folder / "model.bin"
        stat = weights.stat()
        return weights_digest(weights.resolve(), stat.st_size, stat.st_mtime_ns)

    def version(self) -> str:
        return (
            f"{metadata.version('faster-whisper')} ctranslate2 "
            f"{metadata.version('ctranslate2')} model {self._digest()[:12]}"
        )

    def model(self) -> str | None:
        assert self.folder is not None
        return f"{self.folder.name[:100]} (model.bin sha256 {self._digest()})"

    def applies(self, asset: Asset) -> bool:
        return asset.media_type in ("video", "audio") and has_sound(asset)

    def _model(self) -> Any:
        """The model, loaded once, from the folder alone (never from a hub)."""
        if self.whisper is None:
            from faster_whisper import WhisperModel

            self.whisper = WhisperModel(str(self.folder), device=self.device, local_files_only=True)
        return self.whisper

    def analyse(self, asset: Asset, path: Path, session: Session) -> Found:
        import av
        from faster_whisper import decode_audio

        try:
            sound = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        except (av.FFmpegError, IndexError) as exc:  # IndexError: no audio stream
            raise AnalysisError(f"cannot decode the sound of {path.name}: {exc}") from exc
        if not len(sound):
            raise AnalysisError(f"{path.name} has no sound to transcribe")
        duration = round(len(sound) / SAMPLE_RATE, 2)
        pieces, info = self._model().transcribe(sound, **DECODING)
        spoken = [
            {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
            for s in pieces
        ]
        segments = clamp(spoken, duration)
        text = "\n".join(segment["text"] for segment in segments)
        result = {
            "language": info.language,
            "language_probability": round(info.language_probability, 3),
            "duration": duration,
            "speech_seconds": round(info.duration_after_vad, 2),
            "segments": segments,
            "text": text,
            "decoding": dict(DECODING),
        }
        return Found(result, text)

    def summary(self, result: dict[str, Any]) -> str:
        segments = result.get("segments", [])
        count = len(segments)
        line = f"{count} transcript segment{'s' if count != 1 else ''}"
        line += f", {result.get('speech_seconds') or 0:.0f} s of speech"
        if result.get("language"):
            probability = result.get("language_probability") or 0
            line += f"; spoken language {result['language']} ({probability:.2f})"
        return line
