"""A synthetic demo case: abstract moving scenes, never real or graphic footage.

It imitates what investigators receive: an original video, a re-encoded re-upload, a
still, an unrelated video, a corrupt file, a Telegram Desktop export (one message's
media not exported) and a spreadsheet of items with one bad row.

Every run writes the same bytes (one encoder thread, no muxer version or time in the
container), so running the demo again preserves nothing new; the case is built beside
its folder and swapped in whole, so a run cut short leaves the previous case intact.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image

# Encoder and muxer settings that make the output a function of the frames alone: x264's
# threads split the picture differently on every machine, its macroblock tree gave a
# different re-upload on about every other run at CRF 35, and FFmpeg would otherwise
# write its own version into the file.
ENCODER_OPTIONS = {"threads": "1", "x264-params": "mbtree=0"}
MUXER_OPTIONS = {"fflags": "+bitexact"}


@lru_cache(maxsize=8)
def _scene(seed: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded scene's colour field and block colour (the same for each of its frames)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(9, 16, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
    return base, rng.integers(0, 256, 3, np.uint8)


def scene_frame(seed: int, t: float, width: int, height: int) -> np.ndarray:
    """One RGB frame of a seeded scene: smooth colour fields drifting, a block moving."""
    base, colour = _scene(seed, width, height)
    frame = np.roll(base, int(t * width * 0.15) % width, axis=1)
    cx = int((0.2 + 0.6 * ((t * 0.37) % 1.0)) * width)
    cy, r = height // 2, max(4, height // 8)
    frame[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] = colour
    return frame


def write_video(
    path: Path,
    *,
    seed: int,
    seconds: float,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    crf: int = 23,
) -> Path:
    """An H.264 MP4 of a seeded scene, the same bytes on every run and machine."""
    with av.open(str(path), "w", container_options=MUXER_OPTIONS) as container:
        options = ENCODER_OPTIONS | {"crf": str(crf)}
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene_frame(seed, i / fps, width, height), "rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_still(path: Path, *, seed: int, t: float, width: int = 640, height: int = 360) -> Path:
    Image.fromarray(scene_frame(seed, t, width, height)).save(path, quality=80)
    return path


def _telegram_export(folder: Path, video: Path, still: Path) -> None:
    (folder / "video_files").mkdir(parents=True)
    (folder / "photos").mkdir()
    (folder / "video_files" / "clip.mp4").write_bytes(video.read_bytes())
    (folder / "photos" / "photo_1.jpg").write_bytes(still.read_bytes())
    posted = datetime(2020, 12, 10, 9, 30, tzinfo=UTC)

    def message(n: int, minutes: int, **fields: object) -> dict[str, object]:
        at = posted + timedelta(minutes=minutes)
        return {
            "id": n,
            "type": "message",
            "date": at.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(at.timestamp())),
            "from": "Demo Channel",
        } | fields

    export = {
        "name": "Demo Channel",
        "type": "public_channel",
        "id": 1234567890,
        "messages": [
            message(
                101,
                0,
                file="video_files/clip.mp4",
                media_type="video_file",
                mime_type="video/mp4",
                duration_seconds=8,
                text=["Synthetic demo clip ", {"type": "hashtag", "text": "#demo"}],
            ),
            message(
                102,
                12,
                photo="photos/photo_1.jpg",
                text="A still from the clip",
                forwarded_from="Another Demo Channel",
            ),
            message(
                103,
                30,
                file="(File not included. Change data exporting settings to download.)",
                media_type="video_file",
                text="A video that was not exported",
            ),
        ],
    }
    (folder / "result.json").write_text(
        json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _spreadsheet(path: Path) -> None:
    rows = [
        {
            "file": "downloads/reupload.mp4",
            "platform": "x",
            "channel": "@demo_reposter",
            "url": "https://x.example/demo_reposter/status/1",
            "posted_at": "2020-12-11T08:00:00Z",
            "text": "Re-upload of the demo clip",
            "note": "lower quality copy",
        },
        {
            "file": "downloads/unrelated.mp4",
            "platform": "youtube",
            "channel": "Demo Uploads",
            "url": "",
            "posted_at": "2020-12-12",
            "text": "Unrelated footage",
            "note": "",
        },
        {
            "file": "",
            "platform": "telegram",
            "channel": "@nowhere",
            "url": "",
            "posted_at": "not a date",
            "text": "A row with neither a file nor a URL",
            "note": "",
        },
    ]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


class DemoFolderError(Exception):
    """The demo's folder holds something the demo did not write."""


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


def build_case(folder: Path) -> list[Path]:
    """Write the demo case into `folder`, replacing an earlier demo case there whole.

    Returns what to ingest, in order. A folder holding anything else is left alone.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    fresh.chmod(0o755)  # as mkdir would make it, not private like a temporary folder
    try:
        targets = _write_case(fresh)
        if folder.exists():
            if not folder.is_dir():
                raise DemoFolderError(f"{folder}: is a file, not a folder; choose another --dir")
            foreign = sorted(_files(folder) - _files(fresh))
            if foreign:
                raise DemoFolderError(
                    f"{folder}: holds files the demo does not write ({foreign[0]}); "
                    "choose another folder with --dir"
                )
            old = folder.with_name(f"{fresh.name}.old")
            folder.rename(old)
            fresh.rename(folder)
            shutil.rmtree(old)
        else:
            fresh.rename(folder)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return [folder / target.relative_to(fresh) for target in targets]


def _write_case(folder: Path) -> list[Path]:
    downloads = folder / "downloads"
    downloads.mkdir()
    original = write_video(downloads / "original.mp4", seed=11, seconds=8)
    write_video(downloads / "reupload.mp4", seed=11, seconds=8, width=480, height=270, crf=35)
    write_video(downloads / "unrelated.mp4", seed=12, seconds=5)
    still = write_still(downloads / "still_at_3s.jpg", seed=11, t=3.0)
    (downloads / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    export = folder / "ChatExport_2020-12-10"
    _telegram_export(export, original, still)
    _spreadsheet(folder / "links.csv")
    return [downloads, export, folder / "links.csv"]
