"""Frame transforms: Meta's AugLy (the augmentations of DISC21 and VSC 2022) where it has
them, and synthetic overlays it lacks (news ticker, phone UI, desktop player) drawn with Pillow.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import augly.image as augly
from augly.utils import SCREENSHOT_TEMPLATES_DIR
from PIL import Image, ImageDraw, ImageFont

FrameOp = Callable[[Image.Image], Image.Image]

BLACK = (0, 0, 0)


def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font."""
    return ImageFont.load_default(size=max(8, size))


def allow_augly_on_current_pillow() -> None:
    """Give Pillow's fonts the ``getsize_multiline`` that AugLy 1.0.0 (2022) still calls.

    Pillow 10 removed it; ``augly.image.meme_format`` measures its caption with it. The
    replacement measures the same box with ``getbbox`` line by line.
    """
    if hasattr(ImageFont.FreeTypeFont, "getsize_multiline"):
        return

    def getsize_multiline(self: ImageFont.FreeTypeFont, text: str) -> tuple[int, int]:
        boxes = [self.getbbox(line or " ") for line in text.split("\n")]
        return max(b[2] for b in boxes), sum(b[3] for b in boxes)

    ImageFont.FreeTypeFont.getsize_multiline = getsize_multiline  # type: ignore[attr-defined]


allow_augly_on_current_pillow()


def downscale(width: int) -> FrameOp:
    """Resize to ``width`` pixels wide, keeping the aspect ratio (augly scale)."""
    return lambda image: augly.scale(image, factor=width / image.width)


def crop(fraction: float, rng: random.Random) -> FrameOp:
    """Remove ``fraction`` of the width and of the height, split randomly between sides."""
    left, top = fraction * rng.random(), fraction * rng.random()
    return lambda image: augly.crop(
        image, x1=left, y1=top, x2=left + 1 - fraction, y2=top + 1 - fraction
    )


def black_bars(fraction: float, letterbox: bool) -> FrameOp:
    """Pad with black bars so they take ``fraction`` of the height (letterbox) or width."""
    side = (1 / (1 - fraction) - 1) / 2  # augly pads this share of the size on each side
    w_factor, h_factor = (0.0, side) if letterbox else (side, 0.0)
    return lambda image: augly.pad(image, w_factor=w_factor, h_factor=h_factor, color=BLACK)


def mirror() -> FrameOp:
    """Flip left to right."""
    return augly.hflip


def grey_contrast(factor: float) -> FrameOp:
    """Greyscale, then scale the contrast by ``factor``."""
    return lambda image: augly.contrast(augly.grayscale(image), factor=factor)


def brightness(factor: float) -> FrameOp:
    """Scale brightness by ``factor``."""
    return lambda image: augly.brightness(image, factor=factor)


def rotate(degrees: float) -> FrameOp:
    """Rotate about the centre and crop to the largest upright rectangle (augly rotate)."""
    return lambda image: augly.rotate(image, degrees=degrees)


def _logo(side: int, rng: random.Random) -> Image.Image:
    """An opaque synthetic channel logo: coloured tile, ring and initials."""
    colour = tuple(rng.randrange(40, 230) for _ in range(3))
    logo = Image.new("RGB", (side, side), colour)
    draw = ImageDraw.Draw(logo)
    margin = side // 8
    draw.ellipse((margin, margin, side - margin, side - margin), outline="white", width=side // 14)
    text = "".join(rng.choice("ABCDEFGHKMNPRSTVXZ") for _ in range(2))
    draw.text((side / 2, side / 2), text, fill="white", font=font(side // 3), anchor="mm")
    return logo


def logo(area: float, rng: random.Random) -> FrameOp:
    """Overlay an opaque logo covering ``area`` of the frame at a random corner (augly)."""
    corner = rng.randrange(4)
    cache: dict[tuple[int, int], Image.Image] = {}

    def op(image: Image.Image) -> Image.Image:
        side = round((image.width * image.height * area) ** 0.5)
        if image.size not in cache:
            cache[image.size] = _logo(side, rng)
        pad = 1 / 30
        x = pad if corner % 2 == 0 else 1 - side / image.width - pad
        y = pad if corner < 2 else 1 - side / image.height - pad
        return augly.overlay_image(
            image,
            cache[image.size],
            opacity=1.0,
            overlay_size=side / image.height,
            x_pos=x,
            y_pos=y,
        )

    return op


HEADLINES = (
    "BREAKING: footage shared online, authenticity unverified",
    "LIVE: reports from the front line continue",
    "EXCLUSIVE: video obtained by our correspondents",
)


def _banner(width: int, height: int, rng: random.Random) -> Image.Image:
    """A news ticker: coloured bar, channel tag and a headline."""
    colour = rng.choice([(180, 20, 30), (20, 60, 150), (200, 120, 0)])
    bar = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(bar)
    tag_width = width // 5
    draw.rectangle((0, 0, tag_width, height), fill="white")
    draw.text((tag_width / 2, height / 2), "NEWS", fill=colour, font=font(height // 3), anchor="mm")
    draw.text(
        (tag_width + height // 5, height / 2),
        rng.choice(HEADLINES),
        fill="white",
        font=font(height // 4),
        anchor="lm",
    )
    return bar


def news_banner(rng: random.Random) -> FrameOp:
    """Cover the bottom sixth of the frame with a news banner."""
    cache: dict[tuple[int, int], Image.Image] = {}

    def op(image: Image.Image) -> Image.Image:
        if image.size not in cache:
            cache[image.size] = _banner(image.width, image.height // 6, rng)
        bar = cache[image.size]
        out = image.copy()
        out.paste(bar, (0, image.height - bar.height))
        return out

    return op


PHONE_SIZE = (540, 960)


def _phone_frame(rng: random.Random) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A portrait phone UI and the box where the video plays."""
    width, height = PHONE_SIZE
    dark = rng.random() < 0.5
    background, ink = ((18, 18, 18), (235, 235, 235)) if dark else ((250, 250, 250), (20, 20, 20))
    ui = Image.new("RGB", PHONE_SIZE, background)
    draw = ImageDraw.Draw(ui)
    draw.text((20, 14), f"{rng.randrange(10, 23)}:{rng.randrange(10, 59)}", fill=ink, font=font(22))
    draw.rectangle((width - 70, 16, width - 24, 36), outline=ink, width=2)
    draw.rectangle((width - 68, 18, width - 68 + rng.randrange(10, 42), 34), fill=ink)
    draw.text((20, 60), "< Channel", fill=ink, font=font(26))
    box = (0, 110, width, 110 + round(height * 0.5))
    for i, label in enumerate(("Like", "Share", "Save", "Report")):
        x = 30 + i * 130
        draw.ellipse((x, box[3] + 20, x + 40, box[3] + 60), outline=ink, width=3)
        draw.text((x + 48, box[3] + 30), label, fill=ink, font=font(18))
    for i in range(5):
        y = box[3] + 100 + i * 58
        draw.ellipse((20, y, 60, y + 40), fill=(rng.randrange(256), 120, rng.randrange(256)))
        draw.text((72, y), f"user{rng.randrange(1000)}", fill=ink, font=font(18))
        draw.text((72, y + 22), "comment text " * rng.randrange(1, 3), fill=ink, font=font(16))
    draw.rectangle((width // 2 - 70, height - 20, width // 2 + 70, height - 12), fill=ink)
    return ui, box


def phone_recording(rng: random.Random) -> FrameOp:
    """Play the video, fitted small, inside a portrait phone UI (a screen recording)."""
    ui, (x0, y0, x1, y1) = _phone_frame(rng)

    def op(image: Image.Image) -> Image.Image:
        scale = min((x1 - x0) / image.width, (y1 - y0) / image.height)
        small = image.resize((round(image.width * scale), round(image.height * scale)))
        out = ui.copy()
        out.paste(Image.new("RGB", (x1 - x0, y1 - y0), BLACK), (x0, y0))
        out.paste(small, (x0 + (x1 - x0 - small.width) // 2, y0 + (y1 - y0 - small.height) // 2))
        return out

    return op


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def player_screenshot(
    image: Image.Image, time: float, duration: float, rng: random.Random
) -> Image.Image:
    """A desktop screenshot of a video player paused at ``time`` with controls drawn over it."""
    width, height = 1280, 800
    shot = Image.new("RGB", (width, height), (33, 33, 33))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, width, 36), fill=(60, 60, 60))
    draw.text(
        (12, 8),
        f"Media Player - upload_{rng.randrange(99999):05d}.mp4",
        fill="white",
        font=font(18),
    )
    area = (0, 36, width, height - 60)
    scale = min((area[2] - area[0]) / image.width, (area[3] - area[1]) / image.height)
    picture = image.resize((round(image.width * scale), round(image.height * scale)))
    px, py = (width - picture.width) // 2, area[1] + (area[3] - area[1] - picture.height) // 2
    shot.paste(picture, (px, py))
    overlay = Image.new("RGBA", shot.size, (0, 0, 0, 0))
    odraw = ImageDraw.Draw(overlay)
    bottom = py + picture.height
    odraw.rectangle((px, bottom - 70, px + picture.width, bottom), fill=(0, 0, 0, 150))
    odraw.polygon(
        [(px + 20, bottom - 55), (px + 20, bottom - 15), (px + 52, bottom - 35)], fill="white"
    )
    bar = (px + 70, bottom - 38, px + picture.width - 160, bottom - 32)
    odraw.rectangle(bar, fill=(180, 180, 180, 200))
    done = bar[0] + (bar[2] - bar[0]) * time / max(duration, 1e-6)
    odraw.rectangle((bar[0], bar[1], done, bar[3]), fill=(230, 30, 30, 255))
    odraw.text(
        (bar[2] + 12, bottom - 45),
        f"{_clock(time)} / {_clock(duration)}",
        fill="white",
        font=font(18),
    )
    shot = Image.alpha_composite(shot.convert("RGBA"), overlay).convert("RGB")
    ImageDraw.Draw(shot).rectangle((0, height - 60, width, height), fill=(50, 50, 50))
    return shot


SCREENSHOT_TEMPLATES = ("web.png", "mobile.png")


def screenshot(image: Image.Image, rng: random.Random) -> Image.Image:
    """The picture inside a web page or a phone app's feed (augly overlay_onto_screenshot)."""
    template = Path(SCREENSHOT_TEMPLATES_DIR) / rng.choice(SCREENSHOT_TEMPLATES)
    return augly.overlay_onto_screenshot(image, template_filepath=str(template))


MEME_CAPTIONS = ("WHEN YOU SEE IT", "SHARE BEFORE THEY DELETE THIS", "NOBODY IS TALKING ABOUT THIS")


def meme(image: Image.Image, rng: random.Random) -> Image.Image:
    """A white caption band above the picture, as memes are posted (augly meme_format)."""
    return augly.meme_format(
        image, text=rng.choice(MEME_CAPTIONS), caption_height=max(40, image.height // 5)
    )
