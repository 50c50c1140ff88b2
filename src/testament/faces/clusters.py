"""Clusters of faces across the locker, grown as each asset is analysed.

A new face joins the cluster of the nearest face already clustered when their descriptors
lie closer than THRESHOLD (dlib's 0.6), else it starts a cluster of its own. Clusters never
merge on their own, so a cluster an investigator has cited keeps its members. A cluster
is a lead: faces that look alike to a model, for a person to compare, never who it is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Derivative
from testament.catalog.records import iso
from testament.enrich.models import Analysis
from testament.faces.detect import Detected
from testament.faces.models import FACE_KIND, Face, FaceCluster, FaceClusterBasis
from testament.locker.attest import derived_details
from testament.store import Store

THRESHOLD = 0.6
CHUNK = 10_000  # clustered faces' descriptors compared at a time (5 MB)
TOOL = "testament.faces.detect"
LEAD = (
    "A cluster is a lead, never an identification: faces a model finds alike, "
    "for a person to compare."
)


def descriptor_bytes(descriptor: np.ndarray) -> bytes:
    return np.asarray(descriptor, dtype="<f4").tobytes()


def _descriptors(rows: Sequence[bytes]) -> np.ndarray:
    if not rows:
        return np.zeros((0, 128), dtype=np.float32)
    return np.frombuffer(b"".join(rows), dtype="<f4").reshape(len(rows), 128)


def record(
    store: Store,
    session: Session,
    analysis: Analysis,
    asset: Asset,
    found: Sequence[tuple[float | None, Detected]],
) -> list[Face]:
    """The faces of one analysis, their crops (derivatives, signed) and their clusters.

    Faces of the asset's older analyses leave their clusters (their records stay), so a
    re-run with a newer model does not count the same sighting twice.
    """
    session.execute(
        update(Face)
        .where(Face.asset_id == asset.id, Face.analysis_id != analysis.id)
        .values(cluster_id=None)
    )
    faces = []
    for number, (time, detected) in enumerate(found):
        blob = store.blobs.put(io.BytesIO(detected.crop))
        params = {"face": number, "box": list(detected.box), "analysis_id": analysis.id}
        crop = Derivative(
            asset_id=asset.id,
            kind=FACE_KIND,
            sha256=blob.digests.sha256,
            media_type="image/jpeg",
            tool=TOOL,
            tool_version=analysis.version,
            params=params | ({} if time is None else {"time": time}),
        )
        session.add(crop)
        session.flush()
        store.custody.append(session, "derived", f"asset:{asset.sha256}", derived_details(crop))
        face = Face(
            analysis_id=analysis.id,
            asset_id=asset.id,
            time=time,
            box=list(detected.box),
            score=detected.score,
            descriptor=descriptor_bytes(detected.descriptor),
            crop_id=crop.id,
        )
        session.add(face)
        faces.append(face)
    session.flush()
    assign(session, faces)
    return faces


def assign(session: Session, faces: Sequence[Face]) -> None:
    """Each face into the cluster of its nearest clustered face (those already in the
    locker, or one of these placed before it), or a new cluster."""
    mine = _descriptors([face.descriptor for face in faces])
    known_cluster, known_distance = _nearest_clustered(session, mine)
    for index, face in enumerate(faces):
        cluster, distance = int(known_cluster[index]), float(known_distance[index])
        if index:
            earlier = np.linalg.norm(mine[:index] - mine[index], axis=1)
            nearest = int(np.argmin(earlier))
            if earlier[nearest] < distance:
                cluster, distance = faces[nearest].cluster_id, float(earlier[nearest])
        if distance < THRESHOLD:
            face.cluster_id, face.distance = cluster, round(distance, 3)
        else:
            new = FaceCluster()
            session.add(new)
            session.flush()
            face.cluster_id, face.distance = new.id, None
    session.flush()


def _nearest_clustered(session: Session, mine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each descriptor, the cluster of the nearest face already clustered and its
    distance (infinite where none is): read CHUNK faces at a time, so that the locker's
    faces are never all in memory at once."""
    cluster = np.zeros(len(mine), dtype=np.int64)
    best = np.full(len(mine), np.inf)
    if not len(mine):
        return cluster, best
    mine64 = mine.astype(np.float64)
    query = select(Face.cluster_id, Face.descriptor).where(Face.cluster_id.is_not(None))
    for part in session.execute(query.execution_options(yield_per=CHUNK)).partitions():
        ids = np.array([row[0] for row in part], dtype=np.int64)
        matrix = _descriptors([row[1] for row in part]).astype(np.float64)
        squared = (
            (mine64**2).sum(axis=1)[:, None]
            + (matrix**2).sum(axis=1)[None, :]
            - 2 * mine64 @ matrix.T
        )
        distances = np.sqrt(np.maximum(squared, 0.0))
        nearest = distances.argmin(axis=1)
        closer = distances[np.arange(len(mine)), nearest] < best
        best[closer] = distances[np.arange(len(mine)), nearest][closer]
        cluster[closer] = ids[nearest[closer]]
    return cluster, best


def _member(face: Face, sha256: str) -> dict[str, Any]:
    return {
        "face_id": face.id,
        "sha256": sha256,
        "time": face.time,
        "box": face.box,
        "score": face.score,
        "distance": face.distance,
        "crop_id": face.crop_id,
    }


def cluster_list(session: Session, sha256: str | None = None) -> list[dict[str, Any]]:
    """Every cluster (or those with a face in the asset), most assets first, with members
    (asset, time, box) in asset and time order and the attribution bases citing it."""
    rows = session.execute(
        select(Face, Asset.sha256)
        .join(Asset, Asset.id == Face.asset_id)
        .where(Face.cluster_id.is_not(None))
        .order_by(Face.cluster_id, Face.asset_id, Face.time, Face.id)
    ).all()
    members: dict[int, list[dict[str, Any]]] = {}
    for face, asset_sha256 in rows:
        members.setdefault(face.cluster_id, []).append(_member(face, asset_sha256))
    cited: dict[int, list[int]] = {}
    for cluster_id, basis_id in session.execute(
        select(FaceClusterBasis.cluster_id, FaceClusterBasis.basis_id).order_by(
            FaceClusterBasis.basis_id
        )
    ):
        cited.setdefault(cluster_id, []).append(basis_id)
    created = dict(session.execute(select(FaceCluster.id, FaceCluster.created_at)).all())
    listed = []
    for cluster_id, found in members.items():
        assets = list(dict.fromkeys(m["sha256"] for m in found))
        if sha256 is not None and sha256 not in assets:
            continue
        listed.append(
            {
                "id": cluster_id,
                "created_at": iso(created.get(cluster_id)),
                "assets": assets,
                "members": found,
                "bases": cited.get(cluster_id, []),
            }
        )
    listed.sort(key=lambda c: (-len(c["assets"]), c["id"]))
    return listed


def cluster_faces(session: Session, cluster_id: int) -> list[Face]:
    return list(
        session.execute(
            select(Face).where(Face.cluster_id == cluster_id).order_by(Face.asset_id, Face.time)
        ).scalars()
    )
