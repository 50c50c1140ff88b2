"""Synthetic media for tests: moving scenes, stills with EXIF, audio, broken files.

Nothing here depicts anything; scenes are seeded noise and shapes so that different
seeds give visually different footage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def scene_frame(seed: int, t: float, width: int, height: int) -> np.ndarray:
    """One RGB frame of a seeded scene: smooth blobs drifting over time."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(9, 16, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
    shift = int(t * width * 0.15) % width
    frame = np.roll(base, shift, axis=1).copy()
    cx = int((0.2 + 0.6 * ((t * 0.37) % 1.0)) * width)
    cy = int(height * 0.5)
    r = max(4, height // 8)
    frame[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] = rng.integers(
        0, 256, 3, dtype=np.uint8
    )
    return frame


def make_video(
    path: Path,
    *,
    seconds: float = 3.0,
    fps: int = 25,
    width: int = 320,
    height: int = 180,
    seed: int = 1,
    codec: str = "libx264",
    audio: bool = False,
) -> Path:
    """An H.264 MP4 (or another codec) of a seeded moving scene."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        audio_stream = container.add_stream("aac", rate=44100) if audio else None
        frames = int(seconds * fps)
        for i in range(frames):
            image = scene_frame(seed, i / fps, width, height)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio_stream is not None:
            samples = int(seconds * 44100)
            tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[start : start + 1024].reshape(1, -1)
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                aframe.sample_rate = 44100
                aframe.pts = start
                aframe.time_base = Fraction(1, 44100)
                for packet in audio_stream.encode(aframe):
                    container.mux(packet)
            for packet in audio_stream.encode():
                container.mux(packet)
    return path


def make_image(
    path: Path,
    *,
    seed: int = 1,
    width: int = 640,
    height: int = 360,
    exif: Image.Exif | None = None,
) -> Path:
    image = Image.fromarray(scene_frame(seed, 0.0, width, height))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(path, **kwargs)
    return path


def make_corrupt_video(path: Path) -> Path:
    """Bytes that claim to be an MP4 but are not one."""
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    return path


def room_background(room: int, width: int, height: int) -> np.ndarray:
    """The empty room of `room_frame`: seeded blocks of colour with a fine grain."""
    rng = np.random.default_rng(room)
    small = rng.integers(40, 220, size=(6, 8, 3), dtype=np.uint8)
    frame = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.NEAREST))
    grain = rng.integers(-12, 13, size=(height, width, 1))
    return np.clip(frame.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def room_frame(room: int, take: int, t: float, width: int, height: int) -> np.ndarray:
    """One RGB frame from a fixed camera in a seeded room, a figure moving through it.

    The room (walls, furniture: seeded blocks and texture) never moves; `take` seeds the
    figure's path, so different takes of one room share background, light and figure and
    differ only in what the figure does.
    """
    frame = room_background(room, width, height)
    path = np.random.default_rng(1000 + take).uniform(0.15, 0.85, size=4)
    x = path[0] + (path[1] - path[0]) * (0.5 + 0.5 * np.sin(t * (1.5 + path[2])))
    y = 0.45 + 0.15 * np.sin(t * (2.0 + path[3]))
    cx, cy = int(x * width), int(y * height)
    body_w, body_h = max(3, width // 12), max(6, height // 3)
    left, top = max(0, cx - body_w // 2), max(0, cy - body_h // 2)
    frame[top : top + body_h, left : left + body_w] = (30, 40, 90)
    head = max(2, body_w // 2)
    frame[max(0, top - 2 * head) : top, max(0, cx - head // 2) : cx + head // 2 + 1] = (
        200,
        160,
        130,
    )
    arm = int(body_h * 0.4 * np.sin(t * 3.0 + path[2] * 6))
    row = top + body_h // 4
    reach = slice(min(cx, cx + arm * 2), max(cx, cx + arm * 2) + 1)
    frame[row : row + max(2, height // 60), reach] = (30, 40, 90)
    return frame


def make_room_video(
    path: Path,
    *,
    room: int = 1,
    take: int = 1,
    start: float = 0.0,
    seconds: float = 2.5,
    fps: int = 25,
    width: int = 640,
    height: int = 480,
    present: Callable[[float], bool] = lambda t: True,
) -> Path:
    """An H.264 MP4 of one take in one room from a fixed camera (see `room_frame`).

    The figure is in the picture while `present(t)`; otherwise the room is empty.
    """
    empty = room_background(room, width, height)
    times = (start + i / fps for i in range(round(seconds * fps)))
    frames = (room_frame(room, take, t, width, height) if present(t) else empty for t in times)
    return write_frames(path, frames, fps)


def write_frames(path: Path, frames: Iterable[np.ndarray], fps: int = 25) -> Path:
    """An H.264 MP4 of RGB frames, sized by the first."""
    with av.open(str(path), "w") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=fps)
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        if stream is not None:
            container.mux(stream.encode(None))
    return path
