"""Faces: detection under the matching benchmark's transforms, and clustering across videos.

    python -m benchmarks.faces [--lfw 100] [--json benchmarks/results/faces.json]

Detection: scikit-image's sample photos with faces — the astronaut, and the face crops of
Labeled Faces in the Wild (`data.lfw_subset()`, 25×25, scaled to 150 px and set into the
coffee photo so there is a picture around them) — each as is and under the transforms of
benchmarks/matching/transforms.py. A face counts as detectable when `testament.faces.detect`
finds it untransformed; the rate is of detectable faces found under each transform (a face
counts as found when a detection overlaps where the face was put, or for the astronaut, any
detection). The subset's 100 non-face crops, set in the same way, count false detections.

Clustering: a video of the astronaut's face drifting over one photo, and for each transform
a second video of the face, scaled, over another photo, with the transform applied to every
frame, and a video of another person's face; each set goes through `testament analyse
--only faces` in a fresh store. The check: the second video's faces join the first's
cluster, and the other person's do not.

Memory (`--only memory`, `--clustered N`): N faces already clustered (random 128-d
descriptors, three to a cluster) in a SQLite catalog, and one asset's 50 new faces assigned
to clusters by `testament.faces.clusters.assign` in a fresh process: its peak resident
memory before and after, and the peak of Python's and numpy's allocations while assigning.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
from benchmarks.matching import transforms as tf
from PIL import Image
from skimage import data

from testament import config
from testament.accounts import users
from testament.catalog.models import Asset
from testament.collect.ingest import Ingest, default_steps
from testament.collect.items import Item, Sighting
from testament.enrich.run import Runner, analysers
from testament.faces import detect
from testament.faces.clusters import assign, cluster_list, descriptor_bytes
from testament.faces.models import Face, FaceCluster
from testament.faces.setting import set_enabled
from testament.store import init_store

ASTRONAUT_FACE = (120, 20, 330, 260)
LFW_SIZE = 150
FRAME_SIZE = (640, 360)
JPEG_QUALITY = 40
# Transforms that leave the face where it was in the frame.
IN_PLACE = frozenset(
    {"as is", "brightness_0.6", "brightness_1.4", "grey_contrast", "logo_15", "news_banner"}
    | {f"jpeg_{JPEG_QUALITY}"}
)


def _jpeg(image: Image.Image) -> Image.Image:
    from io import BytesIO

    out = BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return Image.open(BytesIO(out.getvalue()))


def frame_ops(seed: int) -> dict[str, tf.FrameOp]:
    """The matching benchmark's frame transforms, with fixed parameters and seed."""
    rng = random.Random(seed)
    return {
        "as is": lambda image: image,
        "downscale_320": tf.downscale(320),
        "crop_10": tf.crop(0.1, rng),
        "black_bars_25": tf.black_bars(0.25, letterbox=True),
        "pillarbox_25": tf.black_bars(0.25, letterbox=False),
        "mirror": tf.mirror(),
        "grey_contrast": tf.grey_contrast(0.6),
        "brightness_0.6": tf.brightness(0.6),
        "brightness_1.4": tf.brightness(1.4),
        "rotate_5": tf.rotate(5),
        "logo_15": tf.logo(0.15, rng),
        "news_banner": tf.news_banner(rng),
        "phone_recording": tf.phone_recording(rng),
        "screenshot": lambda image: tf.screenshot(image, rng),
        "meme": lambda image: tf.meme(image, rng),
        f"jpeg_{JPEG_QUALITY}": _jpeg,
    }


def _background(photo: np.ndarray, size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(photo).convert("RGB").resize(size)


def photos(
    lfw_count: int,
) -> Iterator[tuple[str, Image.Image, tuple[float, float, float, float] | None]]:
    """(name, photo, where the face is as frame fractions; None: anywhere) for each face."""
    yield "astronaut", Image.fromarray(data.astronaut()), None
    crops = data.lfw_subset()
    for index in range(lfw_count):
        yield f"lfw {index}", *_set_in(crops[index])


def non_faces() -> Iterator[Image.Image]:
    for crop in data.lfw_subset()[100:]:
        yield _set_in(crop)[0]


def _set_in(crop: np.ndarray) -> tuple[Image.Image, tuple[float, float, float, float]]:
    face = Image.fromarray((crop * 255).astype(np.uint8)).convert("RGB")
    face = face.resize((LFW_SIZE, LFW_SIZE), Image.Resampling.BICUBIC)
    frame = _background(data.coffee(), FRAME_SIZE)
    x, y = (FRAME_SIZE[0] - LFW_SIZE) // 2, (FRAME_SIZE[1] - LFW_SIZE) // 2
    frame.paste(face, (x, y))
    w, h = FRAME_SIZE
    return frame, (x / w, y / h, LFW_SIZE / w, LFW_SIZE / h)


def _overlaps(box: tuple[float, ...], where: tuple[float, ...]) -> bool:
    ax, ay, aw, ah = box
    bx, by, bw, bh = where
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _found(image: Image.Image, where: tuple[float, float, float, float] | None, op: str) -> bool:
    """Whether a face is found where it was put (anywhere, if the transform moves it)."""
    boxes = [face.box for face in detect.faces(image)]
    if where is None or op not in IN_PLACE:
        return bool(boxes)
    return any(_overlaps(box, where) for box in boxes)


def detection(lfw_count: int, seed: int) -> dict[str, object]:
    ops = frame_ops(seed)
    detectable = []
    for name, photo, where in photos(lfw_count):
        if _found(photo, where, "as is"):
            detectable.append((name, photo, where))
    rates: dict[str, list[int]] = {}
    started = time.process_time()
    for op_name, op in ops.items():
        if op_name == "as is":
            continue
        hits = sum(_found(op(photo), where, op_name) for _, photo, where in detectable)
        rates[op_name] = [hits, len(detectable)]
        print(f"  {op_name}: {hits}/{len(detectable)}", flush=True)
    false = sum(bool(detect.faces(image)) for image in non_faces())
    return {
        "faces": lfw_count + 1,
        "detectable": len(detectable),
        "under_transforms": rates,
        "non_faces_with_a_detection": [false, 100],
        "cpu_seconds": round(time.process_time() - started, 1),
    }


def _video(path: Path, frames: Iterator[Image.Image]) -> Path:
    with av.open(str(path), "w") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=2)
                stream.width, stream.height = (image.width // 2) * 2, (image.height // 2) * 2
                stream.pix_fmt = "yuv420p"
            image = image.convert("RGB").resize((stream.width, stream.height))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        if stream is not None:
            container.mux(stream.encode(None))
    return path


def _drifting(
    face: Image.Image, photo: np.ndarray, scale: float, op: Callable
) -> Iterator[Image.Image]:
    face = face.resize((round(face.width * scale), round(face.height * scale)))
    for index in range(4):  # 2 s at 2 frames a second: keyframes at 0 and 1 s
        frame = _background(photo, FRAME_SIZE)
        frame.paste(face, (40 + 30 * index, 20 + 8 * index))
        yield op(frame)


def clustering(seed: int) -> dict[str, object]:
    """For each transform: does the transformed video join the first video's cluster, and
    does another person's video stay out of it?"""
    astronaut = Image.fromarray(data.astronaut()).crop(ASTRONAUT_FACE)
    stranger = Image.fromarray((data.lfw_subset()[0] * 255).astype(np.uint8)).convert("RGB")
    stranger = stranger.resize((LFW_SIZE, LFW_SIZE), Image.Resampling.BICUBIC)
    results = {}
    for op_name, op in frame_ops(seed).items():
        with tempfile.TemporaryDirectory() as work:
            folder = Path(work)
            first = _video(
                folder / "first.mp4", _drifting(astronaut, data.rocket(), 1.0, lambda i: i)
            )
            second = _video(folder / "second.mp4", _drifting(astronaut, data.chelsea(), 0.7, op))
            other = _video(
                folder / "other.mp4", _drifting(stranger, data.coffee(), 1.0, lambda i: i)
            )
            verdict = _cluster_check(folder / "home", [first, second, other])
        results[op_name] = verdict
        print(f"  {op_name}: {verdict}", flush=True)
    return results


def _cluster_check(home: Path, videos: list[Path]) -> dict[str, object]:
    store, _ = init_store(config.resolve(home=home, actor="benchmark"))
    try:
        with store.write() as session:
            admin, _ = users.add_user(session, "admin", "admin")
            set_enabled(store, session, admin, True)
        items = [Item(p.name, Sighting(method="file", filename=p.name), path=p) for p in videos]
        summary = Ingest(store, steps=default_steps(store)).run(items)
        shas = [result.sha256 for result in summary.results]
        runner = Runner(store, analysers(["faces"]))
        with store.read() as session:
            assets = [session.query(Asset).filter_by(sha256=sha).one() for sha in shas]
        for asset in assets:
            runner.run(asset)
        with store.read() as session:
            clusters = cluster_list(session)
    finally:
        store.close()
    first, second, other = shas
    home_cluster = [c for c in clusters if first in c["assets"]]
    return {
        "joined": bool(home_cluster) and second in home_cluster[0]["assets"],
        "other_kept_apart": bool(home_cluster) and other not in home_cluster[0]["assets"],
        "faces_per_video": [
            sum(m["sha256"] == sha for c in clusters for m in c["members"]) for sha in shas
        ],
    }


def memory(clustered: int, new: int = 50) -> dict[str, object]:
    """Peak memory of assigning `new` faces against `clustered` faces in the catalog."""
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        settings = config.resolve(home=Path(folder), actor="benchmark")
        store, _ = init_store(settings)  # the catalog's schema, as migrations make it
        store.close()
        url = settings.database_url
        engine = create_engine(url)  # no foreign keys enforced: the faces name no asset
        with Session(engine) as session:
            clusters = (clustered + 2) // 3
            session.execute(insert(FaceCluster), [{"id": i + 1} for i in range(clusters)])
            for start in range(0, clustered, 10_000):
                rows = [
                    {
                        "analysis_id": 1,
                        "asset_id": 1,
                        "box": [0.1, 0.1, 0.2, 0.2],
                        "score": 1.0,
                        "descriptor": descriptor_bytes(rng.normal(0, 0.1, 128)),
                        "cluster_id": i // 3 + 1,
                    }
                    for i in range(start, min(start + 10_000, clustered))
                ]
                session.execute(insert(Face), rows)
            session.commit()
        engine.dispose()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            return pool.apply(_assign_peak, (url, new))


def _assign_peak(url: str, new: int) -> dict[str, object]:
    """In a fresh process: peak RSS (MiB) before and after assigning, allocation peak."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    rng = np.random.default_rng(1)
    with Session(create_engine(url)) as session:
        faces = [
            Face(
                analysis_id=2,
                asset_id=2,
                box=[0.1, 0.1, 0.2, 0.2],
                score=1.0,
                descriptor=descriptor_bytes(rng.normal(0, 0.1, 128)),
            )
            for _ in range(new)
        ]
        session.add_all(faces)
        session.flush()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        start = time.perf_counter()
        assign(session, faces)
        seconds = time.perf_counter() - start
        allocated = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "new_faces": new,
        "peak_rss_before_mib": round(before, 1),
        "peak_rss_after_mib": round(after, 1),
        "allocation_peak_mib": round(allocated, 1),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lfw", type=int, default=100, help="LFW face crops to use (≤100)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--only", default="detection,clustering")
    parser.add_argument("--clustered", type=int, default=100_000, help="memory: faces in store")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    found: dict[str, object] = {"versions": detect.versions()}
    if "detection" in args.only:
        print("detection (found / detectable):", flush=True)
        found["detection"] = detection(min(args.lfw, 100), args.seed)
    if "clustering" in args.only:
        print("clustering (second video joins the first's cluster; the other stays out):")
        found["clustering"] = clustering(args.seed)
    if "memory" in args.only:
        print(f"memory (50 new faces against {args.clustered} clustered):", flush=True)
        found["memory"] = {"clustered": args.clustered, **memory(args.clustered)}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(found, indent=2) + "\n")
    print(json.dumps(found))


if __name__ == "__main__":
    main()
