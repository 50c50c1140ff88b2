"""Thumbnails and keyframes: small JPEG derivatives that the workbench shows instead of originals.

Each is stored in the blob store and recorded as a Derivative naming its source, with
a custody event; the original is only read. The blurred, greyscale rendering that the
workbench shows by default is made from these at serve time, so a person's choice to
reveal never depends on a second stored copy.

`Thumbnails` makes them at ingest (one of the default steps), so the library's first
view is never a grid of blank tiles; the workbench still makes any that are missing
(an ingest without the step, a worker that has not reached it yet) on first request.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import av
from PIL import Image, ImageFilter, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Derivative, utcnow
from testament.jobs.threads import each
from testament.locker.attest import derived_details
from testament.locker.blobstore import StoredBlob, local_file
from testament.store import Store

TOOL = "testament.media.thumbnails"
# 2: a JPEG is decoded at the smallest scale that still covers the preview
TOOL_VERSION = f"2 (Pillow {Image.__version__}, PyAV {av.__version__})"
SIZE = 480
KEYFRAMES = 6
KINDS = ("thumbnail", "keyframe")


class PreviewError(Exception):
    """The asset's media could not be decoded into a preview."""


def _jpeg(image: Image.Image) -> bytes:
    # A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) still at least SIZE on each
    # side: a phone's 12-megapixel photo then decodes a sixteenth of its pixels for a
    # 480-pixel preview. The box is square, so the EXIF orientation does not change it.
    image.draft(None, (SIZE, SIZE))
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((SIZE, SIZE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


FORWARD_UP_TO = 60.0  # seconds: a video this short is decoded through once, a longer one sought


def _video_frames(path: str, duration: float | None) -> Iterator[tuple[float, Image.Image]]:
    """Frames at evenly spaced times (the first a little after the start), each the first
    whose time reaches its wanted time (within 0.05 s).

    Seeking decodes again from the keyframe before each time, and short clips often have
    one keyframe only, so a short video is decoded in one forward pass; in a long one,
    decoding everything between the times would cost far more than the seeks.
    """
    with av.open(path) as container:
        stream = container.streams.video[0]
        length = duration or (float(container.duration) / av.time_base if container.duration else 0)
        times = [length * (i + 0.1) / KEYFRAMES for i in range(KEYFRAMES)] if length else [0.0]
        if length <= FORWARD_UP_TO:
            yield from _decoded_forward(container, stream, times)
            return
        for wanted in times:
            container.seek(int(wanted * av.time_base), any_frame=False, backward=True)
            yield from _decoded_forward(container, stream, [wanted])


def _decoded_forward(
    container: av.container.InputContainer, stream: av.VideoStream, times: list[float]
) -> Iterator[tuple[float, Image.Image]]:
    """Decoding on from where the container is: the first frame reaching each time."""
    wanted = iter(times)
    due = next(wanted)
    for frame in container.decode(stream):
        if frame.time is not None and frame.time < due - 0.05:
            continue
        image = frame.to_image()
        while due is not None and (frame.time is None or frame.time >= due - 0.05):
            yield (frame.time if frame.time is not None else due), image
            due = next(wanted, None)
        if due is None:
            return


def make_previews(
    path: str, media_type: str, duration: float | None
) -> list[tuple[str, float | None, bytes]]:
    """(kind, time in seconds, JPEG bytes) for a still or a video; empty for other media."""
    try:
        if media_type == "image":
            with Image.open(path) as image:
                return [("thumbnail", None, _jpeg(image))]
        if media_type == "video":
            frames = [(t, _jpeg(image)) for t, image in _video_frames(path, duration)]
            if not frames:
                return []
            return [("thumbnail", frames[0][0], frames[0][1])] + [
                ("keyframe", t, data) for t, data in frames
            ]
    except (OSError, av.FFmpegError, ValueError) as exc:
        raise PreviewError(f"cannot make previews: {exc}") from exc
    return []


def previews(store: Store, asset: Asset) -> list[Derivative]:
    with store.read() as session:
        return list(
            session.execute(
                select(Derivative)
                .where(Derivative.asset_id == asset.id, Derivative.kind.in_(KINDS))
                .order_by(Derivative.id)
            ).scalars()
        )


def _previewable(asset: Asset) -> bool:
    """Media that cannot be decoded gets none; the asset page says so instead."""
    return not asset.parse_error and asset.media_type in ("image", "video")


def _with_previews(session: Session, assets: Sequence[Asset]) -> set[int]:
    """Which of the assets have previews already: one look-up for a whole batch."""
    ids = [asset.id for asset in assets]
    query = select(Derivative.asset_id).where(
        Derivative.asset_id.in_(ids), Derivative.kind.in_(KINDS)
    )
    return set(session.execute(query).scalars())


def _stored_previews(store: Store, asset: Asset) -> list[tuple[str, float | None, StoredBlob]]:
    """The asset's previews made and put in the blob store, not yet recorded (none when
    its media cannot be decoded)."""
    duration = (asset.probe or {}).get("duration")
    try:
        with local_file(store.blobs, asset.sha256) as path:
            made = make_previews(
                str(path), asset.media_type, duration if isinstance(duration, float) else None
            )
    except PreviewError:
        return []
    return [(kind, t, store.blobs.put(io.BytesIO(data))) for kind, t, data in made]


def _record(
    store: Store,
    session: Session,
    asset: Asset,
    blobs: list[tuple[str, float | None, StoredBlob]],
) -> None:
    """The Derivative rows and their custody events, in the caller's transaction.

    Nothing is flushed here: the rows and events of an asset's previews go to the catalog
    together at the commit, not a round trip each while the write lock is held.
    """
    for kind, t, blob in blobs:
        params = {"max_size": SIZE} | ({} if t is None else {"time": round(t, 3)})
        derivative = Derivative(
            asset_id=asset.id,
            kind=kind,
            sha256=blob.digests.sha256,
            media_type="image/jpeg",
            tool=TOOL,
            tool_version=TOOL_VERSION,
            params=params,
            created_at=utcnow(),  # its event names the time, before the row is flushed
        )
        session.add(derivative)
        store.custody.append(
            session, "derived", f"asset:{asset.sha256}", derived_details(derivative)
        )


def ensure_previews(store: Store, asset: Asset) -> list[Derivative]:
    """The asset's previews, made and recorded now if it has none yet."""
    existing = previews(store, asset)
    if existing or not _previewable(asset):
        return existing
    make_missing_previews(store, [asset])
    return previews(store, asset)


def make_missing_previews(store: Store, assets: Sequence[Asset]) -> None:
    """Previews for those of the assets that have none, recorded in one transaction.

    A batch of small images thus costs one look-up and one commit, not one of each per
    image; the decoding and blob writes happen before the write lock is taken, the
    assets in threads (jobs/threads.py).
    """
    record_previews(store, prepare_previews(store, assets))


Made = list[tuple[Asset, list[tuple[str, float | None, StoredBlob]]]]


def prepare_previews(store: Store, assets: Sequence[Asset]) -> Made:
    """The previews of those assets that have none, made and stored, not yet recorded."""
    wanted = [asset for asset in assets if _previewable(asset)]
    if not wanted:
        return []
    with store.read() as session:
        have = _with_previews(session, wanted)
    todo = [asset for asset in wanted if asset.id not in have]
    stored = zip(todo, each(lambda asset: _stored_previews(store, asset), todo), strict=True)
    return [(asset, blobs) for asset, blobs in stored if blobs]


def record_previews(store: Store, made: Made) -> None:
    """Record previews made by `prepare_previews`, in one transaction."""
    if not made:
        return
    with store.write() as session:
        have = _with_previews(session, [asset for asset, _ in made])  # made meanwhile?
        for asset, blobs in made:
            if asset.id not in have:
                _record(store, session, asset, blobs)


def protective(data: bytes) -> bytes:
    """A heavily blurred, greyscale rendering: enough to orient, not enough to see harm."""
    with Image.open(io.BytesIO(data)) as image:
        grey = ImageOps.grayscale(image)
        radius = max(6, max(grey.size) // 28)
        blurred = grey.resize((max(1, grey.width // 4), max(1, grey.height // 4))).filter(
            ImageFilter.GaussianBlur(radius / 4)
        )
        out = io.BytesIO()
        blurred.resize(grey.size, Image.Resampling.BILINEAR).save(out, "JPEG", quality=70)
        return out.getvalue()


class Thumbnails:
    """An ingest step that makes previews as each asset is preserved, in the name of the
    store's actor (the person ingesting, or `web:<user>` for a workbench upload)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, asset: Asset) -> None:
        make_missing_previews(self.store, [asset])

    def prepare(self, assets: Sequence[Asset]) -> Made:
        """A batch's previews made and stored, while the steps before this one run."""
        return prepare_previews(self.store, assets)

    def record(self, made: Made) -> None:
        """Those previews recorded, in this step's turn."""
        record_previews(self.store, made)

    def finish(self) -> None:
        """Nothing is kept between batches."""
