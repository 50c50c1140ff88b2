"""Synthetic media for tests: moving scenes, stills with EXIF, audio, broken files.

Nothing here depicts anything; scenes are seeded noise and shapes so that different
seeds give visually different footage.
"""

from __future__ import annotations

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
