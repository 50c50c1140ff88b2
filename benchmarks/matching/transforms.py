"""Frame transforms and synthetic overlays (logo, news banner, phone UI, video player)."""

from __future__ import annotations

import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

FrameOp = Callable[[Image.Image], Image.Image]

BLACK = (0, 0, 0)


def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font."""
    return ImageFont.load_default(size=max(8, size))


def downscale(width: int) -> FrameOp:
    """Resize to ``width`` pixels wide, keeping the aspect ratio."""

    def op(image: Image.Image) -> Image.Image:
        height = round(image.height * width / image.width)
        return image.resize((width, height), Image.Resampling.BILINEAR)

    return op


def crop(fraction: float, rng: random.Random) -> FrameOp:
    """Remove ``fraction`` of the width and of the height, split randomly between sides."""
    left_share, top_share = rng.random(), rng.random()

    def op(image: Image.Image) -> Image.Image:
        dx, dy = image.width * fraction, image.height * fraction
        left, top = round(dx * left_share), round(dy * top_share)
        return image.crop(
            (left, top, left + round(image.width - dx), top + round(image.height - dy))
        )

    return op


def black_bars(fraction: float, letterbox: bool) -> FrameOp:
    """Pad with black bars so they take ``fraction`` of the height (letterbox) or width."""

    def op(image: Image.Image) -> Image.Image:
        width, height = image.size
        if letterbox:
            height = round(height / (1 - fraction))
        else:
            width = round(width / (1 - fraction))
        canvas = Image.new("RGB", (width, height), BLACK)
        canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
        return canvas

    return op


def mirror() -> FrameOp:
    """Flip left to right."""
    return ImageOps.mirror


def grey_contrast(factor: float) -> FrameOp:
    """Greyscale, then scale the contrast by ``factor``."""

    def op(image: Image.Image) -> Image.Image:
        grey = ImageOps.grayscale(image).convert("RGB")
        return ImageEnhance.Contrast(grey).enhance(factor)

    return op


def brightness(factor: float) -> FrameOp:
    """Scale brightness by ``factor``."""
    return lambda image: ImageEnhance.Brightness(image).enhance(factor)


def rotate(degrees: float) -> FrameOp:
    """Rotate about the centre, same canvas, black corners."""
    return lambda image: image.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=BLACK)


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
    """Paste an opaque logo covering ``area`` of the frame at a random corner."""
    corner = rng.randrange(4)
    cache: dict[tuple[int, int], Image.Image] = {}

    def op(image: Image.Image) -> Image.Image:
        if image.size not in cache:
            cache[image.size] = _logo(round((image.width * image.height * area) ** 0.5), rng)
        mark = cache[image.size]
        pad = image.width // 30
        x = pad if corner % 2 == 0 else image.width - mark.width - pad
        y = pad if corner < 2 else image.height - mark.height - pad
        out = image.copy()
        out.paste(mark, (x, y))
        return out

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
