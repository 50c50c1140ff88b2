"""Faces across footage: dlib's faces on keyframes of videos and on images, clustered.

Off until an admin turns faces on for the store; until then `refusal` says so in one line
and the other analysers run. The signed result holds each face's time, box, score and
descriptor; the faces, their crops (blurred until revealed) and their clusters are kept
beside it in the same transaction (testament.faces.clusters).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.analyser import AnalysisError, Found
from testament.enrich.models import Analysis
from testament.faces import detect
from testament.faces.setting import refusal
from testament.store import Store

INTERVAL = 1.0  # seconds between keyframes looked at


class Faces:
    """Face detection and 128-d descriptors (dlib), clustered across the locker."""

    name = "faces"
    tool = "dlib"

    def missing(self) -> str | None:
        return detect.missing()

    def refusal(self, store: Store) -> str | None:
        return refusal(store)

    def version(self) -> str:
        return detect.versions()

    def model(self) -> str | None:
        return detect.MODELS

    def applies(self, asset: Asset) -> bool:
        return asset.media_type in ("video", "image")

    def analyse(self, asset: Asset, path: Path, session: Session) -> Found:
        from PIL import Image, UnidentifiedImageError

        from testament.enrich.ocr import keyframes

        found: list[tuple[float | None, detect.Detected]] = []
        looked = 0
        if asset.media_type == "image":
            try:
                with Image.open(path) as image:
                    found += [(None, face) for face in detect.faces(image)]
            except (UnidentifiedImageError, OSError) as exc:
                raise AnalysisError(f"not a readable image: {exc}") from exc
            looked = 1
        else:
            for time, image in keyframes(path, INTERVAL):
                found += [(time, face) for face in detect.faces(image)]
                looked += 1
        result = {
            "keyframes": looked,
            "interval": None if asset.media_type == "image" else INTERVAL,
            "faces": [
                {
                    "time": time,
                    "box": list(face.box),
                    "score": face.score,
                    "descriptor": [round(float(v), 6) for v in face.descriptor],
                }
                for time, face in found
            ],
        }
        return Found(result, keep=partial(_keep, asset=asset, found=found))

    def summary(self, result: dict[str, Any]) -> str:
        faces = result.get("faces", [])
        looked = result.get("keyframes", 0)
        where = "the image" if result.get("interval") is None else f"{looked} keyframes"
        return (
            f"{len(faces)} face{'s' if len(faces) != 1 else ''} on {where}; "
            "clusters with `testament faces` (a lead, never an identification)"
        )


def _keep(
    store: Store,
    session: Session,
    row: Analysis,
    *,
    asset: Asset,
    found: list[tuple[float | None, detect.Detected]],
) -> None:
    from testament.faces.clusters import record

    record(store, session, row, asset, found)
