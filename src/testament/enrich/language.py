"""Languages of what an asset says: its captures' post texts, on-screen text, transcript.

Lingua ships its models in the wheel, so nothing is downloaded. The detector knows the
languages of the region and its neighbours only: fewer candidates, fewer confusions
between close ones (Azerbaijani and Turkish).
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.analyser import Found
from testament.enrich.records import latest

# The candidates, by ISO 639-1 code: the region's languages and its neighbours'.
NAMES = {
    "hy": "Armenian",
    "az": "Azerbaijani",
    "ru": "Russian",
    "tr": "Turkish",
    "en": "English",
    "uk": "Ukrainian",
    "ka": "Georgian",
    "fa": "Persian",
    "ar": "Arabic",
    "fr": "French",
    "de": "German",
}
LANGUAGES = tuple(name.upper() for name in NAMES.values())
MIN_LETTERS = 3  # fewer letters than this say nothing about a language


@cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    chosen = [getattr(Language, name) for name in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*chosen).build()


def identify(text: str) -> dict[str, Any] | None:
    """The most likely language of a text (ISO 639-1 code, name, confidence 0-1)."""
    if sum(c.isalpha() for c in text) < MIN_LETTERS:
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    return {
        "language": best.language.iso_code_639_1.name.lower(),
        "name": best.language.name.title(),
        "confidence": round(best.value, 3),
    }


def texts_of(session: Session, asset: Asset) -> list[tuple[str, str]]:
    """(where it was read, text) for every text the asset carries."""
    found = [
        (f"capture {capture.id} post text", capture.post_text)
        for capture in asset.captures
        if capture.post_text
    ]
    ocr = latest(session, asset.id, "ocr")
    for region in (ocr.result or {}).get("regions", []) if ocr else []:
        where = "on-screen text" + (f" at {region['start']:.0f}s" if region["start"] else "")
        found.append((where, region["text"]))
    speech = latest(session, asset.id, "speech")
    if speech and speech.result and speech.result.get("text"):
        found.append(("transcript", speech.result["text"]))
    return found


class Languages:
    """Language identification of texts (lingua-language-detector)."""

    name = "language"
    tool = "lingua-language-detector"

    def missing(self) -> str | None:
        try:
            import lingua  # noqa: F401
        except ImportError:
            return "language: lingua is not installed (pip install 'testament[analysis]')"
        return None

    def version(self) -> str:
        return metadata.version("lingua-language-detector")

    def model(self) -> str | None:
        return "lingua models shipped with the wheel: " + ", ".join(n.lower() for n in LANGUAGES)

    def applies(self, asset: Asset) -> bool:
        return True

    def analyse(self, asset: Asset, path: Path, session: Session) -> Found:
        items = []
        for where, text in texts_of(session, asset):
            language = identify(text)
            if language is not None:
                items.append({"source": where, "text": text[:200]} | language)
        return Found({"texts": items, "languages": sorted({i["language"] for i in items})})

    def summary(self, result: dict[str, Any]) -> str:
        languages = result.get("languages", [])
        count = len(result.get("texts", []))
        return (
            f"{count} text{'s' if count != 1 else ''}; languages {', '.join(languages) or 'none'}"
        )
