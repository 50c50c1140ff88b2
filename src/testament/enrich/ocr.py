"""On-screen text: Tesseract (tesserocr) on keyframes of videos and on images, tracked over time.

A chyron or a watermark stays on screen for many frames; lines read in consecutive frames
at the same place with nearly the same words are one region with its time span and box
(relative to the frame). A region in a corner that names an account (`@name`,
`t.me/name`) is marked as a watermark with that channel.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.analyser import AnalysisError, Found
from testament.enrich.glyphs import glyph_lines, line_crops, overlap

LANGS_ENV = "TESTAMENT_OCR_LANGUAGES"
# Armenian, Azerbaijani (Latin), Russian, Turkish, English, and Tesseract's models of the
# Cyrillic and Latin scripts. Debian's `aze_cyrl` model was trained on a letter-for-letter
# transliteration of Latin Azerbaijani, without ү, ө, ғ, ш or ч (ӱ, ӧ, ҝ̆, с̧, ҹ̧ instead),
# so it reads `Мүлки` as `Мулки`; the Cyrillic script model has them all. English, which
# lacks ə, ş, ğ and ı, wins Azerbaijani and Turkish words from their own models with the
# letters stripped (`mexaniklasdirilmis`); the Latin script model has them all.
DEFAULT_LANGS = "hye+aze+rus+tur+eng+Cyrillic+Latin"
# Debian's packages of Tesseract's script models (the others are tesseract-ocr-<pack>).
SCRIPT_PACKAGES = {
    "Cyrillic": "tesseract-ocr-script-cyrl",
    "Latin": "tesseract-ocr-script-latn",
    "Armenian": "tesseract-ocr-script-armn",
}
INTERVAL = 1.0  # seconds between keyframes read
# Tesseract's confidence (0-100) in a word kept, and in a line's words on average: a true
# word crossed by a streak of the picture reads with low confidence inside a confident line.
MIN_CONFIDENCE = 25.0
LINE_CONFIDENCE = 50.0
SCRIPTS = {
    "hye": "Armenian",
    "Armenian": "Armenian",
    "rus": "Cyrillic",
    "aze_cyrl": "Cyrillic",
    "Cyrillic": "Cyrillic",
    "Latin": "Latin",
    "aze": "Latin",
    "tur": "Latin",
    "eng": "Latin",
}
LEADING = ("eng", "rus")
GROUP_LEADERS = ("Latin",)  # script models that lead their script's engine
SAME_TEXT = 0.75  # similarity of a line's words to the region it continues
SAME_PLACE = 0.3  # overlap (IoU) of its box with the region's
CORNER = 0.3  # a watermark's centre lies within this fraction of two edges
HANDLE = re.compile(r"(?:t\.me/|telegram\.me/|@)([A-Za-z][A-Za-z0-9_]{3,31})", re.IGNORECASE)
Box = tuple[float, float, float, float]  # x, y, width, height as fractions of the frame


@dataclass(frozen=True)
class Line:
    text: str
    box: Box
    confidence: float


@dataclass
class Region:
    """A line of text seen in one place over a span of keyframes; its text is the reading
    seen most often, each reading kept for its span."""

    start: float | None
    end: float | None
    box: Box
    readings: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The reading with the most confident characters over the span: a whole reading
        outweighs a part of it read more often."""
        weight: Counter[str] = Counter()
        for line in self.readings:
            weight[line.text] += line.confidence * len(line.text)
        return weight.most_common(1)[0][0]

    @property
    def channel(self) -> str | None:
        """The account its readings name most often, if it is a watermark."""
        named = Counter(
            handle.casefold()
            for line in self.readings
            if (handle := watermark_channel(line.text, self.box)) is not None
        )
        return named.most_common(1)[0][0] if named else None

    def as_dict(self) -> dict[str, Any]:
        text, channel = self.text, self.channel
        return {
            "text": text,
            "start": self.start,
            "end": self.end,
            "box": [round(v, 4) for v in self.box],
            "frames": len(self.readings),
            "confidence": round(sum(r.confidence for r in self.readings) / len(self.readings), 1),
            "kind": "watermark" if channel else "text",
            "channel": channel,
        }


def watermark_channel(text: str, box: Box) -> str | None:
    """The account a corner text names, if it is in a corner and names one."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    in_corner = (cx < CORNER or cx > 1 - CORNER) and (cy < CORNER or cy > 1 - CORNER)
    found = HANDLE.search(text.replace("©", "@"))  # a common misreading of @
    return found.group(1) if in_corner and found else None


def _iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _likeness(region: Region, text: str) -> float:
    """How like any reading of the region a text is (1.0 when one holds the other: a
    watermark read whole in one frame and in part in the next)."""
    best = 0.0
    for reading in {line.text for line in region.readings}:
        if len(text) >= 3 and len(reading) >= 3 and (text in reading or reading in text):
            return 1.0
        best = max(best, SequenceMatcher(None, reading, text).ratio())
    return best


def track(frames: list[tuple[float | None, list[Line]]], interval: float) -> list[Region]:
    """Join each frame's lines to the region they continue (seen one keyframe before)."""
    regions: list[Region] = []
    open_: list[Region] = []
    for time, lines in frames:
        still_open: list[Region] = []
        for line in lines:
            best = max(
                (r for r in open_ if r not in still_open and _iou(r.box, line.box) >= SAME_PLACE),
                key=lambda r: _likeness(r, line.text),
                default=None,
            )
            similar = best is not None and _likeness(best, line.text) >= SAME_TEXT
            if best is not None and similar:
                best.end = time
                best.readings.append(line)
                still_open.append(best)
            else:
                region = Region(time, time, line.box, [line])
                regions.append(region)
                still_open.append(region)
        open_ = still_open
    for region in regions:
        if region.end is not None:
            region.end = round(region.end + interval, 3)  # seen until the next keyframe
    return regions


def candidate_boxes(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Where text lines may be: strong edges close together along a row (x, y, w, h).

    Reading each candidate as one line finds light text on busy footage that a full-page
    pass misses, and keeps every region's place in the frame.
    """
    import cv2

    height, width = gray.shape
    edges = cv2.morphologyEx(
        gray, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    )
    _, mask = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    join = max(9, width // 40)
    mask = cv2.morphologyEx(
        mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (join, 1))
    )
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    boxes = []
    for x, y, w, h, area in stats[1:]:
        if h < 8 or h > height / 4 or w < 1.5 * h or area < 0.4 * w * h:
            continue
        boxes.append((int(x), int(y), int(w), int(h)))
    return _join_words(boxes)


def _join_words(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Words of one line, split at wide gaps, joined into the line."""
    joined: list[tuple[int, int, int, int]] = []
    for x, y, w, h in sorted(boxes, key=lambda b: b[0]):
        for i, (jx, jy, jw, jh) in enumerate(joined):
            overlap = min(jy + jh, y + h) - max(jy, y)
            gap = x - (jx + jw)
            if overlap > 0.6 * min(jh, h) and -jh < gap < 1.2 * max(jh, h) and 0.6 < h / jh < 1.6:
                top, bottom = min(jy, y), max(jy + jh, y + h)
                joined[i] = (jx, top, max(jx + jw, x + w) - jx, bottom - top)
                break
        else:
            joined.append((x, y, w, h))
    return joined


class Reader:
    """Tesseract engines, one per script of the languages configured, reading single lines.

    Loading every language into one engine lets it mix scripts within a line (Cyrillic
    letters in Latin words, Latin in Armenian); one engine per script reads a line with
    each, keeps the most confident reading, and remembers the script of the region for
    the keyframes that follow, so a region that stays on screen is read once per keyframe.
    """

    def __init__(self, languages: str) -> None:
        import tesserocr

        self.scripts = engine_groups(languages)  # each engine's packs, and their script
        # Tesseract reads with its LSTM models either way; LSTM_ONLY skips loading the
        # legacy engine's data (most of the Latin script model's 89 MB: 1.75 s to 0.43 s).
        self.engines = {
            packs: tesserocr.PyTessBaseAPI(
                path=tessdata(),
                lang=packs,
                psm=tesserocr.PSM.SINGLE_LINE,
                oem=tesserocr.OEM.LSTM_ONLY,
            )
            for packs in self.scripts
        }
        self.seen: list[tuple[Box, str]] = []  # the last keyframe's regions and their engine
        self.single_line, self.raw_line = tesserocr.PSM.SINGLE_LINE, tesserocr.PSM.RAW_LINE

    def close(self) -> None:
        for engine in self.engines.values():
            engine.End()

    def forget(self) -> None:
        """Start a new video or image: no region's script is known."""
        self.seen = []

    def lines(self, image: Any) -> list[Line]:
        """The confident lines of one frame, with boxes as fractions of it."""
        gray = np.asarray(image.convert("L"))
        height, width = gray.shape
        found, seen = [], []
        for (x, y, w, h), light in regions(gray):
            box = (x / width, y / height, w / width, h / height)
            letters, plain = line_crops(gray, (x, y, w, h), light)
            engine = self._engine(box)
            if engine is None:
                engine, words = max(
                    ((e, self._read(e, letters)) for e in self.engines),
                    key=lambda read: _mean(read[1]) * in_script(read[1], self.scripts[read[0]]),
                )
            else:
                words = self._read(engine, letters)
            # A line of short letters only (`новости из`) is read in capitals where
            # Tesseract judges case by the line's height; read raw, it is not.
            raw = self._read(engine, letters, self.raw_line)
            words = max(words, raw, self._read(engine, plain), key=_mean)
            text = " ".join(word for word, confidence in words if confidence >= MIN_CONFIDENCE)
            seen.append((box, engine))
            if sum(c.isalnum() for c in text) < 2 or _mean(words) < LINE_CONFIDENCE:
                continue
            found.append(Line(text, box, _mean(words)))
        self.seen = seen
        return found

    def _engine(self, box: Box) -> str | None:
        """The engine that read the same place on the keyframe before, if any."""
        matches = [(s, _iou(box, b)) for b, s in self.seen if _iou(box, b) >= SAME_PLACE]
        return max(matches, key=lambda m: m[1])[0] if matches else None

    def _read(self, packs: str, crop: Any, mode: int | None = None) -> list[tuple[str, float]]:
        engine = self.engines[packs]
        engine.SetPageSegMode(self.single_line if mode is None else mode)
        engine.SetImage(crop)
        return list(
            zip(engine.GetUTF8Text().split(), map(float, engine.AllWordConfidences()), strict=False)
        )


def engine_groups(languages: str) -> dict[str, str]:
    """Tesseract's language packs grouped into one engine per script, each engine's packs
    with the script they read ("hye+rus+tur+eng" → hye: Armenian, rus: Cyrillic, eng+tur:
    Latin). Within an engine, Tesseract reads each word with its first pack and tries the
    others only where that reading is poor, so the first pack wins every word it reads
    well. English and Russian lead their languages' groups: English reads the `@`, `_`
    and `/` of handles and addresses that the Turkish and Azerbaijani models drop, and
    Azerbaijani's letters (ә, ҹ) creep into Russian words where its Cyrillic model leads.
    The Latin script model leads them all (GROUP_LEADERS): it reads the letters that one
    language has and another lacks (ə, ş, ğ, ı, ü), where English leading strips them;
    behind it English comes last, so that a word it reads poorly goes to Azerbaijani and
    Turkish first (with English second, Azerbaijani at 24 px read 1.4% wrong, not 0.8%).
    A pack of unknown script reads alone, and so does any other script model (the
    Cyrillic one): in one engine with a language's model, that model's dictionary wins
    the words (Russian's `у` for Azerbaijani's `ү`)."""
    groups: dict[str, list[str]] = {}
    for pack in sorted(languages.split("+"), key=lambda pack: pack not in LEADING):
        alone = SCRIPTS.get(pack, pack) == pack and pack not in GROUP_LEADERS
        groups.setdefault(pack if alone else SCRIPTS[pack] + "+", []).append(pack)
    for packs in groups.values():
        if leader := next((pack for pack in packs if pack in GROUP_LEADERS), None):
            packs.sort(key=lambda pack: (pack != leader, pack in LEADING))
    return {"+".join(packs): SCRIPTS.get(packs[0], packs[0]) for packs in groups.values()}


def package(pack: str) -> str:
    """The Debian package with a Tesseract language or script pack."""
    return SCRIPT_PACKAGES.get(pack, f"tesseract-ocr-{pack.replace('_', '-').lower()}")


def regions(gray: np.ndarray) -> list[tuple[tuple[int, int, int, int], bool | None]]:
    """Candidate lines, each with whether its letters are light (None: not known):
    outlined letters, and edges dense along a row (text on a band); a candidate that
    covers a line already found is left out."""
    found: list[tuple[tuple[int, int, int, int], bool | None]] = list(glyph_lines(gray))
    for box in candidate_boxes(gray):
        if all(overlap(box, other) < SAME_PLACE for other, _ in found):
            found.append((box, None))
    return found


def in_script(words: list[tuple[str, float]], script: str) -> float:
    """The share of a reading's letters that are of the engine's script: a model that
    knows letters of two scripts (Tesseract's Azerbaijani reads Cyrillic too) reads a line
    of the other script confidently, with letters of its own mixed in."""
    letters = [c for word, _ in words for c in word if c.isalpha()]
    if script not in SCRIPTS.values() or not letters:
        return 1.0
    return sum(unicodedata.name(c, "").startswith(script.upper()) for c in letters) / len(letters)


def _mean(words: list[tuple[str, float]]) -> float:
    return sum(c for _, c in words) / len(words) if words else 0.0


def tessdata() -> str:
    """Tesseract's language data: TESSDATA_PREFIX, else where Debian's packages put it."""
    if os.environ.get("TESSDATA_PREFIX"):
        return os.environ["TESSDATA_PREFIX"]
    found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"))
    return str(found[-1]) + "/" if found else ""


def keyframes(path: Path, interval: float) -> Iterator[tuple[float, Any]]:
    """The first frame at or after every `interval` seconds, as Pillow images (PyAV)."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AnalysisError(f"cannot open {path.name} as video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise AnalysisError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.time_base or 0
        start = stream.start_time or 0
        due = 0.0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if frame.pts is not None and base:
                    t = float((frame.pts - start) * base)
                else:
                    t = index / float(stream.average_rate or 25)
                if t + 1e-6 >= due:
                    yield round(t, 3), frame.to_image()
                    due += interval * max(1, int((t - due) // interval) + 1)
        except av.FFmpegError as exc:
            raise AnalysisError(f"cannot decode {path.name}: {exc}") from exc


class OnScreenText:
    """OCR of keyframes and images (Tesseract, through tesserocr)."""

    name = "ocr"
    tool = "tesseract"

    def __init__(self) -> None:
        self.languages = os.environ.get(LANGS_ENV, DEFAULT_LANGS)
        self.reader: Reader | None = None

    def missing(self) -> str | None:
        try:
            import tesserocr
        except ImportError:
            return "ocr: tesserocr is not installed (pip install 'testament[analysis]')"
        _, have = tesserocr.get_languages(tessdata())
        lacking = [lang for lang in self.languages.split("+") if lang not in have]
        if lacking:
            packages = " ".join(package(lang) for lang in lacking)
            names = ", ".join(lacking)
            return f"ocr: Tesseract lacks language data {names} (apt-get install {packages})"
        return None

    def version(self) -> str:
        import tesserocr

        return tesserocr.tesseract_version().split()[1]

    def model(self) -> str | None:
        return self.languages

    def _reader(self) -> Reader:
        if self.reader is None:
            self.reader = Reader(self.languages)
        return self.reader

    def applies(self, asset: Asset) -> bool:
        return asset.media_type in ("video", "image")

    def analyse(self, asset: Asset, path: Path, session: Session) -> Found:
        from PIL import Image, UnidentifiedImageError

        frames: list[tuple[float | None, list[Line]]] = []
        self._reader().forget()
        if asset.media_type == "image":
            try:
                with Image.open(path) as image:
                    frames.append((None, self._reader().lines(image)))
            except (UnidentifiedImageError, OSError) as exc:
                raise AnalysisError(f"not a readable image: {exc}") from exc
        else:
            for time, image in keyframes(path, INTERVAL):
                frames.append((time, self._reader().lines(image)))
        regions = [region.as_dict() for region in track(frames, INTERVAL)]
        regions.sort(key=lambda r: (r["start"] or 0.0, r["box"][1]))
        text = "\n".join(region["text"] for region in regions)
        return Found({"keyframes": len(frames), "interval": INTERVAL, "regions": regions}, text)

    def summary(self, result: dict[str, Any]) -> str:
        regions = result.get("regions", [])
        marks = [f"@{r['channel']}" for r in regions if r.get("kind") == "watermark"]
        line = f"{len(regions)} text region{'s' if len(regions) != 1 else ''}"
        return line + (f" (watermark {', '.join(sorted(set(marks)))})" if marks else "")
