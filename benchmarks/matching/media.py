"""Small PyAV helpers: read frames with their times, write H.264 files, grab stills."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image


@dataclass(frozen=True)
class Frame:
    """One decoded frame and its presentation time in seconds."""

    time: float
    image: Image.Image


def read_frames(path: Path) -> Iterator[Frame]:
    """Yield every video frame of ``path`` as RGB with its time (first frame at 0)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start: float | None = None
        for frame in container.decode(stream):
            time = float(frame.time or 0.0)
            start = time if start is None else start
            yield Frame(time - start, frame.to_image())


def video_info(path: Path) -> tuple[float, float, int, int]:
    """Return (duration seconds, frame rate, width, height) of the first video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 30)
        duration = float(container.duration or 0) / av.time_base
        return duration, rate, stream.width, stream.height


def _even(value: int) -> int:
    return max(2, value - value % 2)


def write_video(path: Path, images: Iterable[Image.Image], fps: float, crf: int = 23) -> None:
    """Encode ``images`` as H.264 (yuv420p) at constant ``fps``; sizes are made even."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = None
        for image in images:
            if stream is None:
                stream = container.add_stream("libx264", rate=round(fps))
                stream.width, stream.height = _even(image.width), _even(image.height)
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), "preset": "veryfast"}
            if image.size != (stream.width, stream.height):
                image = image.crop((0, 0, stream.width, stream.height))
            frame = av.VideoFrame.from_image(image.convert("RGB"))
            container.mux(stream.encode(frame))
        if stream is not None:
            container.mux(stream.encode(None))
    tmp.replace(path)


def frame_at(path: Path, time: float) -> Frame:
    """Return the last frame whose time is at or before ``time``."""
    chosen: Frame | None = None
    for frame in read_frames(path):
        if frame.time > time + 1e-6 and chosen is not None:
            break
        chosen = frame
    if chosen is None:
        raise ValueError(f"no frames in {path}")
    return chosen
