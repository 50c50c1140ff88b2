"""A synthetic demo case: abstract moving scenes, never real or graphic footage.

It imitates what investigators receive: an original video, a re-encoded re-upload, a
still, an unrelated video, a corrupt file, a Telegram Desktop export (one message's
media not exported) and a spreadsheet of items with one bad row.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
from PIL import Image


def scene_frame(seed: int, t: float, width: int, height: int) -> np.ndarray:
    """One RGB frame of a seeded scene: smooth colour fields drifting, a block moving."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(9, 16, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
    frame = np.roll(base, int(t * width * 0.15) % width, axis=1).copy()
    cx = int((0.2 + 0.6 * ((t * 0.37) % 1.0)) * width)
    cy, r = height // 2, max(4, height // 8)
    frame[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] = rng.integers(0, 256, 3, np.uint8)
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
    """An H.264 MP4 of a seeded scene."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf)})
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


def build_case(folder: Path) -> list[Path]:
    """Write the demo case into `folder`; return what to ingest, in order."""
    downloads = folder / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    original = write_video(downloads / "original.mp4", seed=11, seconds=8)
    write_video(downloads / "reupload.mp4", seed=11, seconds=8, width=480, height=270, crf=35)
    write_video(downloads / "unrelated.mp4", seed=12, seconds=5)
    still = write_still(downloads / "still_at_3s.jpg", seed=11, t=3.0)
    (downloads / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    export = folder / "ChatExport_2020-12-10"
    _telegram_export(export, original, still)
    _spreadsheet(folder / "links.csv")
    return [downloads, export, folder / "links.csv"]
