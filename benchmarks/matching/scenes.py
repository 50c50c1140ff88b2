"""Synthetic footage of the kinds the public samples lack, drawn deterministically.

A fixed camera on a static background with one person-like figure (or a car, a cloud, a
plume) moving in front of it: short takes of 1.5–3 s at 640×480 as a phone or a CCTV
camera would record them, several takes per place (different footage, same camera: the
hard negatives), dark and low-texture places (night, asphalt, sky, smoke), and a 60 s
recording of a room whose empty view recurs. Every pixel comes from a generator seeded by
the scene's name, take and frame number, so a render is the same on every machine.
Nothing is graphic: figures are flat shapes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchmarks.matching.media import write_video
from PIL import Image, ImageDraw, ImageFilter

SIZE = (640, 480)
FPS = 25


@dataclass(frozen=True)
class Scene:
    """One place seen by one fixed camera; ``takes`` different recordings of it."""

    name: str
    kind: str  # room | night | asphalt | sky | smoke | long_room
    seconds: tuple[float, ...]  # length of each take


def _seed(*parts: object) -> int:
    text = ":".join(str(p) for p in ("testament-scene", *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(_seed(*parts))


# Backgrounds: what the fixed camera sees when nothing moves.


def _texture(rng: np.random.Generator, sigma: float, blur: float) -> np.ndarray:
    """Static fine grain (plaster, carpet, asphalt) as a float offset per pixel."""
    grain = Image.fromarray(rng.normal(128, 40, SIZE[::-1]).clip(0, 255).astype(np.uint8))
    grain = grain.filter(ImageFilter.GaussianBlur(blur))
    values = np.asarray(grain, np.float32) - 128
    return values / max(values.std(), 1e-6) * sigma


def _room(rng: np.random.Generator) -> Image.Image:
    """An office: wall, floor, door, desk, shelves with books, a framed poster."""
    width, height = SIZE
    wall = tuple(int(v) for v in rng.integers(150, 215, 3))
    image = Image.new("RGB", SIZE, wall)
    draw = ImageDraw.Draw(image)
    floor_y = int(height * rng.uniform(0.68, 0.76))
    floor = tuple(int(v) for v in rng.integers(70, 130, 3))
    draw.rectangle((0, floor_y, width, height), fill=floor)
    for x in range(0, width, int(rng.integers(40, 70))):
        draw.line((x, floor_y, x - 60, height), fill=tuple(c - 20 for c in floor), width=2)
    door_x = int(rng.integers(20, 120))
    draw.rectangle((door_x, floor_y - 260, door_x + 110, floor_y), fill=(110, 80, 50))
    draw.ellipse((door_x + 90, floor_y - 135, door_x + 100, floor_y - 125), fill=(220, 200, 60))
    shelf_x = int(rng.integers(330, 470))
    for row in range(3):
        y = floor_y - 230 + row * 70
        draw.rectangle((shelf_x, y + 55, shelf_x + 150, y + 62), fill=(90, 60, 40))
        x = shelf_x + 4
        while x < shelf_x + 140:
            w = int(rng.integers(6, 16))
            colour = tuple(int(v) for v in rng.integers(20, 235, 3))
            draw.rectangle((x, y + int(rng.integers(8, 25)), x + w, y + 55), fill=colour)
            x += w + 2
    poster = (int(rng.integers(170, 260)), 60, int(rng.integers(300, 320)), 170)
    draw.rectangle(poster, fill=(30, 30, 30))
    for _ in range(6):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        x0, y0 = rng.integers(poster[0], poster[2] - 20), rng.integers(poster[1], poster[3] - 20)
        draw.ellipse((x0, y0, x0 + rng.integers(10, 40), y0 + rng.integers(10, 40)), fill=colour)
    desk = (int(rng.integers(200, 300)), floor_y - 90)
    draw.rectangle((desk[0], desk[1], desk[0] + 200, desk[1] + 12), fill=(120, 90, 60))
    draw.rectangle((desk[0] + 10, desk[1] + 12, desk[0] + 22, floor_y + 10), fill=(80, 60, 40))
    draw.rectangle((desk[0] + 178, desk[1] + 12, desk[0] + 190, floor_y + 10), fill=(80, 60, 40))
    draw.rectangle((desk[0] + 60, desk[1] - 70, desk[0] + 150, desk[1] - 8), fill=(25, 25, 35))
    pixels = np.asarray(image, np.float32)
    shade = np.linspace(1.08, 0.82, width, dtype=np.float32)[None, :, None]
    return _to_image(pixels * shade + _texture(rng, 6, 1.0)[..., None])


def _asphalt(rng: np.random.Generator) -> Image.Image:
    """A car park seen from above: grey grain, a few faded bay lines, an oil stain."""
    grey = float(rng.uniform(85, 110))
    pixels = np.full((*SIZE[::-1], 3), grey, np.float32) + _texture(rng, 3.0, 0.8)[..., None]
    image = _to_image(pixels)
    draw = ImageDraw.Draw(image)
    line = int(grey + 22)
    for x in range(int(rng.integers(30, 90)), SIZE[0], 150):
        draw.line((x, 0, x + 10, SIZE[1]), fill=(line, line, line - 4), width=5)
    stain = rng.integers(100, 500), rng.integers(100, 380)
    draw.ellipse((*stain, stain[0] + 60, stain[1] + 35), fill=(int(grey) - 12,) * 3)
    return image.filter(ImageFilter.GaussianBlur(0.6))


def _sky(rng: np.random.Generator) -> np.ndarray:
    """A blue gradient, darker at the top (clouds drift over it per frame)."""
    top, bottom = np.array([70, 120, 200]), np.array([170, 200, 235]) + rng.integers(-10, 10, 3)
    ramp = np.linspace(0, 1, SIZE[1], dtype=np.float32)[:, None, None]
    return np.broadcast_to(top + (bottom - top) * ramp, (*SIZE[::-1], 3)).astype(np.float32)


def _to_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


# Movers: what changes from frame to frame.


def _figure(
    draw: ImageDraw.ImageDraw,
    x: float,
    floor: float,
    scale: float,
    phase: float,
    colours: tuple[tuple[int, int, int], tuple[int, int, int]],
) -> None:
    """A flat person-like figure standing on ``floor`` at ``x``; ``phase`` swings the limbs."""
    shirt, trousers = colours
    h = 230 * scale
    head = 0.13 * h
    top = floor - h
    swing = np.sin(phase) * 0.12 * h
    draw.line((x, top + 0.55 * h, x - swing, floor), fill=trousers, width=int(0.09 * h))
    draw.line((x, top + 0.55 * h, x + swing, floor), fill=trousers, width=int(0.09 * h))
    draw.rounded_rectangle(
        (x - 0.12 * h, top + head * 1.8, x + 0.12 * h, top + 0.6 * h),
        radius=int(0.05 * h),
        fill=shirt,
    )
    draw.line(
        (x - 0.1 * h, top + 0.3 * h, x - 0.2 * h + swing, top + 0.55 * h),
        fill=shirt,
        width=int(0.06 * h),
    )
    draw.line(
        (x + 0.1 * h, top + 0.3 * h, x + 0.2 * h - swing, top + 0.55 * h),
        fill=shirt,
        width=int(0.06 * h),
    )
    draw.ellipse((x - head, top, x + head, top + 2 * head), fill=(196, 160, 130))


def _take_motion(scene: str, take: int) -> tuple[float, float, float, tuple]:
    """Start x, speed (px/s), scale and clothing of the figure in one take."""
    rng = _rng(scene, "motion", take)
    start = float(rng.uniform(60, 580))
    speed = float(rng.choice([-1, 1]) * rng.uniform(60, 160))
    scale = float(rng.uniform(0.8, 1.15))
    shirt = tuple(int(v) for v in rng.integers(20, 230, 3))
    trousers = tuple(int(v) for v in rng.integers(10, 90, 3))
    return start, speed, scale, (shirt, trousers)


def _bounce(x: float) -> float:
    """Keep a walker inside the frame by turning at the walls."""
    period = 2 * (SIZE[0] - 80)
    x = (x - 40) % period
    return 40 + (x if x < period / 2 else period - x)


def _walker(
    scene: str, take: int, background: Image.Image, present: Callable[[float], bool]
) -> Callable[[float], Image.Image]:
    start, speed, scale, colours = _take_motion(scene, take)
    floor = SIZE[1] * 0.9

    def frame(t: float) -> Image.Image:
        image = background.copy()
        if present(t):
            _figure(
                ImageDraw.Draw(image), _bounce(start + speed * t), floor, scale, t * 7.0, colours
            )
        return image

    return frame


def _car(scene: str, take: int, background: Image.Image) -> Callable[[float], Image.Image]:
    rng = _rng(scene, "car", take)
    y, speed = float(rng.uniform(120, 300)), float(rng.choice([-1, 1]) * rng.uniform(40, 90))
    x0 = float(rng.uniform(100, 500))
    body = tuple(int(v) for v in rng.integers(30, 200, 3))

    def frame(t: float) -> Image.Image:
        image = background.copy()
        draw = ImageDraw.Draw(image)
        x = x0 + speed * t
        draw.rounded_rectangle((x, y, x + 170, y + 80), radius=18, fill=body)
        draw.rectangle((x + 40, y + 10, x + 120, y + 70), fill=tuple(c // 2 for c in body))
        return image

    return frame


def _drift(base: np.ndarray, scene: str, take: int, grey: bool) -> Callable[[float], Image.Image]:
    """Clouds (over a sky) or smoke (over grey) that drift and thin out over time."""
    rng = _rng(scene, "drift", take)
    coarse = rng.normal(0, 1, (12, 16)).astype(np.float32)
    field = Image.fromarray(coarse, mode="F").resize((SIZE[0] * 2, SIZE[1] * 2), Image.BICUBIC)
    layer = np.asarray(field, np.float32)
    layer = (layer - layer.mean()) / max(layer.std(), 1e-6)
    contrast = 0.2  # soft and thin clouds or smoke: PDQ quality 30-45, as real sky has
    dx, dy = rng.uniform(8, 20), (-rng.uniform(15, 30) if grey else rng.uniform(-3, 3))

    def frame(t: float) -> Image.Image:
        ox, oy = int(SIZE[0] / 2 + dx * t) % SIZE[0], int(SIZE[1] / 2 + dy * t) % SIZE[1]
        patch = layer[oy : oy + SIZE[1], ox : ox + SIZE[0]]
        density = np.clip(patch * contrast + 0.35, 0, 1)[..., None]
        colour = 150.0 if grey else 245.0
        return _to_image(base * (1 - density) + colour * density)

    return frame


def _long_room_presence(t: float) -> bool:
    """In the 60 s recording the person is in the room for 10 s of every 20 s."""
    return 4.0 <= t % 20.0 < 14.0


def _frames(scene: Scene, take: int) -> Callable[[float], Image.Image]:
    bg_rng = _rng(scene.name, "background")
    if scene.kind in ("room", "long_room"):
        present = _long_room_presence if scene.kind == "long_room" else (lambda t: True)
        return _walker(scene.name, take, _room(bg_rng), present)
    if scene.kind == "night":
        lit = _walker(scene.name, take, _room(bg_rng), lambda t: True)
        return lambda t: _to_image(np.asarray(lit(t), np.float32) * 0.22)
    if scene.kind == "asphalt":
        return _car(scene.name, take, _asphalt(bg_rng))
    if scene.kind == "sky":
        return _drift(_sky(bg_rng), scene.name, take, grey=False)
    if scene.kind == "smoke":
        base = np.full((*SIZE[::-1], 3), 70.0, np.float32) + _texture(bg_rng, 2, 1)[..., None]
        return _drift(base, scene.name, take, grey=True)
    raise ValueError(f"scene {scene.name}: unknown kind {scene.kind!r}")


NOISE = {"night": 5.0, "asphalt": 2.0, "sky": 1.5, "smoke": 2.0}


def _sensor(image: Image.Image, sigma: float, rng: np.random.Generator) -> Image.Image:
    """Per-frame sensor noise, as a real camera adds even when nothing moves."""
    pixels = np.asarray(image, np.float32)
    return _to_image(pixels + rng.normal(0, sigma, pixels.shape[:2])[..., None])


def take_frames(scene: Scene, take: int) -> Iterator[Image.Image]:
    """Every frame of one take (take numbers start at 1)."""
    draw = _frames(scene, take)
    sigma = NOISE.get(scene.kind, 1.5)
    for i in range(round(scene.seconds[take - 1] * FPS)):
        yield _sensor(draw(i / FPS), sigma, _rng(scene.name, take, i))


def render_take(scene: Scene, take: int, path: Path) -> None:
    """Encode one take as a near-lossless H.264 original (CRF 18), unless already there."""
    if not path.exists():
        write_video(path, take_frames(scene, take), FPS, crf=18)
