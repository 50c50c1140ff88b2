"""The transform suite: queries made from the benchmark's footage, with their ground truth.

Every query is planned from a seed derived from its id, so the suite is the same on every
run; media are rendered once into the work folder and reused. Which footage there is and
which half each query is in comes from ``sources.py``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pdqhash
from benchmarks.matching import sources as src
from benchmarks.matching import transforms as tf
from benchmarks.matching.media import Frame, read_frames, video_info, write_video
from benchmarks.matching.scenes import render_take
from benchmarks.matching.sources import Source
from PIL import Image

CORPUS = src.TMK
HEAD, TAIL = (0.0, 0.4), (0.6, 1.0)
# A negative still lies at least this long after the end of the head it is searched
# against: closer, it is the same take a moment later (see "adjacent_still").
NEGATIVE_GAP = 2.0
# Families reported for information, not held to the targets: a still from just after the
# head, in the same take, is neither "different footage" nor from the head itself.
INFORMATIONAL = ("adjacent_still",)
# A clip must show this much footage with usable detail (frames of the source's usable PDQ
# quality), as a still must: a clip of an out-of-focus blur is not footage anyone can match.
CLIP_MIN_USABLE = 1.0
SHORT_CLIP = (1.5, 3.0)  # seconds: what is posted as a "short clip"
LONG_STILLS = 2  # long recordings get this many times the stills: their views recur


@dataclass
class Query:
    """One query file and its ground truth.

    ``source`` is the asset it must be matched to (None for negatives); ``index`` names the
    index it is searched in ("main": every source, or "negative": the old sources' first
    40%). ``offset`` is the source time of the query's first frame; ``timestamp`` a still's
    time. ``half`` is "tuning" or "held-out"; ``place`` names the place and camera it shows.
    """

    id: str
    family: str
    kind: str
    path: str
    source: str | None
    relation: str
    index: str = "main"
    offset: float | None = None
    timestamp: float | None = None
    params: dict = field(default_factory=dict)
    excluded: str | None = None  # why the query is planned but not run
    half: str = "tuning"
    place: str = ""


def source_path(name: str, work: Path | None = None) -> Path:
    """Path of a source or as-is file by name (synthetic takes need the work folder)."""
    return src.path_of(name, work or Path("benchmarks/results/matching"))


def head_asset(name: str) -> str:
    """Asset id of an old source's first 40% in the negative index."""
    return f"{name}#head"


def _rng(query_id: str) -> random.Random:
    return random.Random(f"testament-bench:{query_id}")


# Planning: draw each query's parameters and ground truth.

VIDEO_FAMILIES: dict[str, Callable[[random.Random], dict]] = {
    "reencode_low": lambda r: {"crf": r.randint(40, 45)},
    "downscale_320": lambda r: {"width": 320},
    "crop_10": lambda r: {"fraction": 0.10},
    "black_bars_25": lambda r: {"fraction": 0.25, "letterbox": r.random() < 0.5},
    "mirror": lambda r: {},
    "grey_contrast": lambda r: {"contrast": round(r.uniform(1.2, 1.6), 2)},
    "fps_brightness": lambda r: {
        "fps": r.choice([15, 24, 25]),
        "brightness": round(r.choice([r.uniform(0.7, 0.85), r.uniform(1.15, 1.35)]), 2),
    },
    "rotate_3": lambda r: {"degrees": r.choice([-3.0, 3.0])},
    "logo_15": lambda r: {"area": 0.15},
    "news_banner": lambda r: {},
    "phone_recording": lambda r: {},
    "clip_40": lambda r: {"start": round(r.uniform(0.25, 0.35), 3), "length": 0.4},
    "short_clip": lambda r: {"seconds": round(r.uniform(*SHORT_CLIP), 2), "at": r.random()},
}
STILL_FAMILIES = ("still_jpeg", "still_player", "still_crop_10", "still_screenshot", "still_meme")
# Beyond the issue's list: a JPEG of a frame cut like crop_10 (a cropped screenshot), the
# picture inside a web page or phone feed (augly's screenshot templates), and a meme.
EXTRA = ("still_crop_10", "still_screenshot", "still_meme", "short_clip")
CLIPS = ("clip_40", "short_clip")


@dataclass(frozen=True)
class FrameInfo:
    """Times and PDQ qualities of every frame of one file."""

    times: np.ndarray
    qualities: np.ndarray

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0


def frame_info(name: str, work: Path) -> FrameInfo:
    """Frame times and qualities of a file, cached in the work folder."""
    cache = work / "frames" / f"{name.replace('/', '__')}.json"
    if not cache.exists():
        times, qualities = [], []
        for frame in read_frames(source_path(name, work)):
            _, quality = pdqhash.compute(np.asarray(frame.image.convert("RGB")))
            times.append(frame.time)
            qualities.append(int(quality))
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"times": times, "qualities": qualities}))
    data = json.loads(cache.read_text())
    return FrameInfo(np.array(data["times"]), np.array(data["qualities"]))


def _pick_times(
    info: FrameInfo, span: tuple[float, float], count: int, rng: random.Random, quality: int
) -> list[float]:
    """``count`` frame times inside the ``span`` share of the file with usable PDQ quality."""
    lo, hi = span[0] * info.duration, span[1] * info.duration
    usable = [
        float(t)
        for t, q in zip(info.times, info.qualities, strict=True)
        if lo <= t <= hi and q >= quality
    ]
    return sorted(rng.sample(usable, min(count, len(usable))))


def _query(source: Source, qid: str, family: str, kind: str, path: str, **kw: object) -> Query:
    return Query(
        qid,
        family,
        kind,
        path,
        source.name,
        str(kw.pop("relation", "same_footage")),
        half=src.half_of(source.group),
        place=source.place,
        **kw,  # type: ignore[arg-type]
    )


def _clip_span(family: str, params: dict, duration: float) -> tuple[float, float]:
    """Start and end (seconds of the source) of a clip query."""
    if family == "clip_40":
        start = params["start"] * duration
        return start, start + params["length"] * duration
    length = min(params["seconds"], 0.8 * duration)
    start = params["at"] * (duration - length)
    return start, start + length


def _plan_videos(source: Source, per_source: int, info: FrameInfo) -> Iterator[Query]:
    families = (
        VIDEO_FAMILIES if source.role == "all" else {"short_clip": VIDEO_FAMILIES["short_clip"]}
    )
    for family, draw in families.items():
        for variant in range(per_source):
            qid = f"{family}/{source.name}-{variant}"
            params = draw(_rng(qid))
            offset, relation, excluded = 0.0, "same_footage", None
            if family in CLIPS:
                start, end = _clip_span(family, params, info.duration)
                first = info.times[info.times >= start - 1e-6][0]
                offset, relation = round(float(first), 3), "clip_of"
                params["end"] = round(end, 3)
                excluded = _unusable_clip(info, float(first), end, source.min_quality)
            yield _query(
                source,
                qid,
                family,
                "video",
                f"{qid}.mp4",
                relation=relation,
                offset=offset,
                params=params,
                excluded=excluded,
            )


def _unusable_clip(info: FrameInfo, start: float, end: float, quality: int) -> str | None:
    """Why a clip cannot be matched by anyone (too little usable detail), or None."""
    inside = (info.times >= start - 1e-6) & (info.times < end)
    interval = float(np.median(np.diff(info.times))) if len(info.times) > 1 else 0.0
    usable = float((info.qualities[inside] >= quality).sum()) * interval
    if usable >= min(CLIP_MIN_USABLE, 0.5 * (end - start)):
        return None
    return f"{usable:.1f} s of its {end - start:.1f} s have PDQ quality >= {quality}"


def _plan_stills(source: Source, per_source: int, info: FrameInfo) -> Iterator[Query]:
    count = per_source * (LONG_STILLS if info.duration > 30 else 1)
    for family in STILL_FAMILIES:
        rng = _rng(f"{family}/{source.name}")
        times = _pick_times(info, (0.0, 1.0), count, rng, source.min_quality)
        for i, time in enumerate(times):
            qid = f"{family}/{source.name}-{i}"
            jpeg = family != "still_player"
            params = {"quality": rng.randint(70, 90)} if jpeg else {}
            yield _query(
                source,
                qid,
                family,
                "image",
                f"{qid}.{'jpg' if jpeg else 'png'}",
                relation="still_from",
                timestamp=time,
                params=params,
            )


def _plan_as_is() -> Iterator[Query]:
    for name, (reference, relation, offset) in src.TMK_VARIANTS.items():
        source = src.BY_NAME[reference]
        yield _query(
            source,
            f"corpus_variant/{name}",
            "corpus_variant",
            "video",
            str(source_path(name)),
            relation=relation,
            offset=offset,
        )
    for item in src.AS_IS:
        kind = "image" if item.name.endswith((".png", ".jpg")) else "video"
        yield Query(
            f"{item.family}/{item.name}",
            item.family,
            kind,
            item.name,  # resolved by query_file
            item.reference,
            item.relation,
            offset=item.offset,
            half=src.half_of(item.group),
            place=item.place,
        )


def _plan_negative_stills(work: Path, per_source: int) -> Iterator[Query]:
    """JPEG stills of every hard-negative take: other footage of the same place."""
    for item in src.AS_IS:
        if item.family != "hard_negative":
            continue
        scene = src.scene_of(item.name)
        quality = src.LOW_QUALITY_KINDS.get(scene[0].kind, 50) if scene else 50
        rng = _rng(f"hard_negative_still/{item.name}")
        info = frame_info(item.name, work)
        for i, time in enumerate(_pick_times(info, (0.0, 1.0), per_source, rng, quality)):
            qid = f"hard_negative_still/{item.name}-{i}"
            yield Query(
                qid,
                "hard_negative_still",
                "image",
                f"{qid}@{time:.3f}.jpg",
                None,
                "none",
                timestamp=time,
                params={"file": item.name},
                half=src.half_of(item.group),
                place=item.place,
            )


def _plan_old_negatives(infos: dict[str, FrameInfo]) -> Iterator[Query]:
    for source in src.OLD:
        name = source.name
        for variant, params in enumerate(({"crf": 23}, {"crf": 30, "width": 320})):
            qid = f"negative_tail/{name}-{variant}"
            yield Query(
                qid,
                "negative_tail",
                "video",
                f"{qid}.mp4",
                None,
                "none",
                "negative",
                params=params | {"file": name},
                place=source.place,
            )
        info = infos[name]
        far = max(TAIL[0], HEAD[1] + NEGATIVE_GAP / info.duration)
        yield from _tail_stills("negative_tail_still", source, info, (far, TAIL[1]), None)
        if far > TAIL[0]:
            near = (TAIL[0], far)
            yield from _tail_stills("adjacent_still", source, info, near, head_asset(name))
    yield Query(
        f"negative_unrelated/{src.UNRELATED}",
        "negative_unrelated",
        "video",
        str(source_path(src.UNRELATED)),
        None,
        "none",
        place=src.UNRELATED,
    )


def _tail_stills(
    family: str, source: Source, info: FrameInfo, span: tuple[float, float], asset: str | None
) -> Iterator[Query]:
    """Two stills from ``span`` of an old source, searched in the index of the heads.

    With an ``asset`` (the head they follow in the same take) they are expected to come
    back as stills from it; without one, they must not come back at all.
    """
    rng = _rng(f"{family}/{source.name}")
    for i, time in enumerate(_pick_times(info, span, 2, rng, source.min_quality)):
        qid = f"{family}/{source.name}-{i}"
        yield Query(
            qid,
            family,
            "image",
            f"{qid}@{time:.3f}.jpg",
            asset,
            "still_from" if asset else "none",
            "negative",
            timestamp=time,
            params={"file": source.name},
            place=source.place,
        )


def plan(work: Path, per_source: int = 1, stills_per_source: int = 2) -> list[Query]:
    """Every query of the suite, with ground truth, in a fixed order (scenes rendered)."""
    drawn = [s for s in src.SOURCES if s.role != "reference"]
    infos = {s.name: frame_info(s.name, work) for s in drawn}
    queries: list[Query] = []
    for source in drawn:
        queries += _plan_videos(source, per_source, infos[source.name])
    for source in drawn:
        queries += _plan_stills(source, stills_per_source, infos[source.name])
    queries += _plan_as_is()
    queries += _plan_negative_stills(work, stills_per_source)
    queries += _plan_old_negatives(infos)
    return sorted(queries, key=lambda q: _FAMILY_ORDER.index(q.family))


_FAMILY_ORDER = (
    *VIDEO_FAMILIES,
    *STILL_FAMILIES,
    "corpus_variant",
    "hard_negative",
    "hard_negative_still",
    "set_negative",
    "negative_tail",
    "negative_tail_still",
    "adjacent_still",
    "negative_unrelated",
)


# Rendering: make the query files.


def _frame_op(query: Query) -> tf.FrameOp:
    p, rng = query.params, _rng(query.id)
    ops: dict[str, Callable[[], tf.FrameOp]] = {
        "reencode_low": lambda: lambda image: image,
        "downscale_320": lambda: tf.downscale(p["width"]),
        "crop_10": lambda: tf.crop(p["fraction"], rng),
        "black_bars_25": lambda: tf.black_bars(p["fraction"], p["letterbox"]),
        "mirror": tf.mirror,
        "grey_contrast": lambda: tf.grey_contrast(p["contrast"]),
        "fps_brightness": lambda: tf.brightness(p["brightness"]),
        "rotate_3": lambda: tf.rotate(p["degrees"]),
        "logo_15": lambda: tf.logo(p["area"], rng),
        "news_banner": lambda: tf.news_banner(rng),
        "phone_recording": lambda: tf.phone_recording(rng),
        "clip_40": lambda: lambda image: image,
        "short_clip": lambda: lambda image: image,
        "negative_tail": lambda: tf.downscale(p["width"]) if "width" in p else lambda image: image,
    }
    return ops[query.family]()


def _resample(frames: Iterable[Frame], fps: float) -> Iterator[Frame]:
    """Constant-rate resampling: for each output tick, the latest source frame at or before it."""
    tick, previous = 0, None
    for frame in frames:
        while previous is not None and tick / fps < frame.time - 1e-6:
            yield Frame(tick / fps, previous.image)
            tick += 1
        previous = frame
    if previous is not None:
        yield Frame(tick / fps, previous.image)


def _selected_frames(query: Query, path: Path) -> Iterator[Frame]:
    frames = read_frames(path)
    if query.family in CLIPS:
        start, end = query.offset or 0.0, query.params["end"]
        return (f for f in frames if start - 1e-6 <= f.time < end)
    if query.family == "negative_tail":
        duration = video_info(path)[0]
        return (f for f in frames if f.time >= TAIL[0] * duration)
    return frames


def _render_video(query: Query, work: Path) -> None:
    path = source_path(query.source or query.params["file"], work)
    fps = video_info(path)[1]
    frames = _selected_frames(query, path)
    if "fps" in query.params:
        fps = query.params["fps"]
        frames = _resample(frames, fps)
    op = _frame_op(query)
    images = (op(f.image.convert("RGB")) for f in frames)
    write_video(work / query.path, images, fps, query.params.get("crf", 23))


def _still(path: Path, time: float) -> Image.Image:
    frame = next(f for f in read_frames(path) if abs(f.time - time) < 1e-6)
    return frame.image.convert("RGB")


def _render_still(query: Query, work: Path) -> None:
    path = source_path(query.params.get("file") or query.source or "", work)
    image = _still(path, query.timestamp or 0.0)
    target = work / query.path
    target.parent.mkdir(parents=True, exist_ok=True)
    rng = _rng(query.id)
    if query.family == "still_player":
        duration = video_info(path)[0]
        tf.player_screenshot(image, query.timestamp or 0.0, duration, rng).save(target)
        return
    if query.family == "still_crop_10":
        image = tf.crop(0.10, rng)(image)
    elif query.family == "still_screenshot":
        image = tf.screenshot(image, rng)
    elif query.family == "still_meme":
        image = tf.meme(image, rng)
    image.save(target, quality=query.params.get("quality", 85))


def render(query: Query, work: Path) -> None:
    """Make one query's file under ``work`` unless it is an existing file or already there."""
    if query.family in ("corpus_variant", "hard_negative", "set_negative", "negative_unrelated"):
        return
    if (work / query.path).exists():
        return
    if query.kind == "image":
        _render_still(query, work)
    else:
        _render_video(query, work)


def render_scenes(work: Path, jobs: int) -> None:
    """Every take of every synthetic scene, as the originals the suite is drawn from."""
    takes = [
        (scene, take, source_path(src.take_name(scene.name, take), work))
        for scene in src.SCENES
        for take in range(1, len(scene.seconds) + 1)
    ]
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(render_take, *zip(*takes, strict=True)))


def render_negative_index_assets(work: Path) -> dict[str, Path]:
    """Each old source's first 40% as its own file: the assets of the negative index."""
    assets = {}
    for source in src.OLD:
        name = source.name
        path = work / "negative_index" / f"{name}-head.mp4"
        if not path.exists():
            duration, fps, _, _ = video_info(source_path(name))
            frames = (
                f.image for f in read_frames(source_path(name)) if f.time <= HEAD[1] * duration
            )
            write_video(path, frames, fps)
        assets[head_asset(name)] = path
    return assets


def build(
    work: Path,
    per_source: int = 1,
    stills_per_source: int = 2,
    jobs: int = 2,
    keep: Callable[[Query], bool] = lambda query: True,
) -> list[Query]:
    """Render the scenes, plan the suite, render the missing files of the ``keep`` queries
    in ``jobs`` processes; write ``suite.json`` (the whole plan) and return those queries."""
    render_scenes(work, jobs)
    planned = plan(work, per_source, stills_per_source)
    queries = [q for q in planned if keep(q)]
    runnable = [q for q in queries if q.excluded is None]
    with ProcessPoolExecutor(jobs) as pool:
        heads = pool.submit(render_negative_index_assets, work)
        list(pool.map(render, runnable, [work] * len(runnable), chunksize=4))
        heads.result()
    (work / "suite.json").write_text(json.dumps([asdict(q) for q in planned], indent=1))
    return queries


def query_file(query: Query, work: Path) -> Path:
    """Absolute path of a query's file."""
    if Path(query.path).is_absolute():
        return Path(query.path)
    if query.family in ("corpus_variant", "hard_negative", "set_negative"):
        return source_path(query.path, work)
    return work / query.path
