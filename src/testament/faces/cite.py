"""A cluster cited as an attribution basis: one "face in another video" basis per asset.

Each basis points at the asset's clearest sighting in the cluster (its time and box) and
says in its note that it comes from face comparison, a lead and not an identification.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.accounts.roles import allows
from testament.actors.attributions import BasisIn, add_basis, get_attribution
from testament.actors.models import AttributionBasis
from testament.catalog.models import Asset
from testament.faces.clusters import THRESHOLD, cluster_faces
from testament.faces.models import Face, FaceClusterBasis
from testament.faces.setting import NotAllowed

BASIS_KIND = "face in another video"


def _note(cluster_id: int, note: str) -> str:
    said = (
        f"face cluster {cluster_id}: faces dlib finds alike (distance under {THRESHOLD}); "
        "a lead for comparison, not an identification"
    )
    return f"{said}. {note.strip()}" if note.strip() else said


def cite(
    session: Session, user: User, cluster_id: int, attribution_id: int, note: str = ""
) -> list[AttributionBasis]:
    """Bases for the attribution from the cluster's sightings, linked to the cluster."""
    if not allows(user.role, "investigator"):
        raise NotAllowed("only investigators, reviewers and admins cite face clusters")
    faces = cluster_faces(session, cluster_id)
    if not faces:
        raise NotAllowed(f"no face cluster {cluster_id}")
    attribution = get_attribution(session, attribution_id)
    best: dict[int, Face] = {}
    for face in faces:
        if face.asset_id not in best or face.score > best[face.asset_id].score:
            best[face.asset_id] = face
    made = []
    for face in best.values():
        asset = session.get(Asset, face.asset_id)
        assert asset is not None
        basis = add_basis(
            session,
            user,
            attribution,
            BasisIn(
                kind=BASIS_KIND,
                sha256=asset.sha256,
                start=face.time,
                end=face.time,
                region=[min(1.0, max(0.0, v)) for v in face.box],
                note=_note(cluster_id, note),
            ),
        )
        session.add(FaceClusterBasis(basis_id=basis.id, cluster_id=cluster_id, face_id=face.id))
        made.append(basis)
    session.flush()
    return made
