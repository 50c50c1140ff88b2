"""Face detection and descriptors with dlib, from the models `face_recognition_models` ships.

dlib's HOG frontal detector finds faces of about 80 pixels and more; pictures smaller than
UPSAMPLE_BELOW are doubled first so faces of about 40 pixels are found too. Each face is
aligned by the 5-point landmark model and described by dlib's ResNet as 128 numbers; two
faces of one person lie closer than 0.6 (dlib's threshold) far more often than not.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

import numpy as np
from PIL import Image

UPSAMPLE_BELOW = 1000  # pixels on the longer side: smaller pictures are doubled
MAX_SIDE = 1920  # larger pictures are scaled down first: faces stay well above 80 px
MIN_SCORE = 0.3  # the detector's score; below it, measured, mostly patterns on clothes
CROP_MARGIN = 0.25  # of the face's size, around the box, in a crop
CROP_SIZE = 160  # pixels on the crop's longer side


@dataclass(frozen=True)
class Detected:
    box: tuple[float, float, float, float]  # x, y, width, height as fractions of the picture
    score: float
    descriptor: np.ndarray  # 128 float32
    crop: bytes  # JPEG


def missing() -> str | None:
    """One line saying what to install, when dlib or its models are not here."""
    try:
        import dlib  # noqa: F401
        import face_recognition_models  # noqa: F401
    except ImportError:
        return "faces: dlib or its models are not installed (pip install 'testament[faces]')"
    return None


def versions() -> str:
    return (
        f"dlib {metadata.version('dlib-bin')}, "
        f"face_recognition_models {metadata.version('face_recognition_models')}"
    )


MODELS = (
    "dlib HOG frontal face detector, shape_predictor_5_face_landmarks, "
    "dlib_face_recognition_resnet_model_v1 (face_recognition_models)"
)


@cache
def _models() -> tuple[Any, Any, Any]:
    import dlib
    import face_recognition_models as shipped

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(shipped.pose_predictor_five_point_model_location()),
        dlib.face_recognition_model_v1(shipped.face_recognition_model_location()),
    )


def _crop(image: Image.Image, left: int, top: int, width: int, height: int) -> bytes:
    margin = round(max(width, height) * CROP_MARGIN)
    box = (
        max(0, left - margin),
        max(0, top - margin),
        min(image.width, left + width + margin),
        min(image.height, top + height + margin),
    )
    crop = image.crop(box)
    crop.thumbnail((CROP_SIZE, CROP_SIZE))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85)
    return out.getvalue()


def faces(picture: Image.Image) -> list[Detected]:
    """Every face the detector finds with at least MIN_SCORE, left to right."""
    detector, landmarks, describe = _models()
    image = picture.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    pixels = np.asarray(image)
    upsample = 1 if max(image.size) < UPSAMPLE_BELOW else 0
    rects, scores, _kinds = detector.run(pixels, upsample, 0.0)
    found = []
    for rect, score in sorted(zip(rects, scores, strict=True), key=lambda rs: rs[0].left()):
        if score < MIN_SCORE:
            continue
        left, top = max(0, rect.left()), max(0, rect.top())
        right, bottom = min(image.width, rect.right()), min(image.height, rect.bottom())
        if right <= left or bottom <= top:
            continue
        shape = landmarks(pixels, rect)
        descriptor = np.asarray(describe.compute_face_descriptor(pixels, shape), dtype=np.float32)
        box = (
            left / image.width,
            top / image.height,
            (right - left) / image.width,
            (bottom - top) / image.height,
        )
        found.append(
            Detected(
                box=tuple(round(v, 4) for v in box),  # type: ignore[arg-type]
                score=round(float(score), 3),
                descriptor=descriptor,
                crop=_crop(image, left, top, right - left, bottom - top),
            )
        )
    return found
