"""Who sees faces, and the audit of every face crop shown.

Clusters are for investigators, reviewers and admins (viewers never see them), and only
while faces are on for the store. A crop is shown blurred and greyscale unless revealed;
each one sent, blurred or clear, is an audit row on its asset.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from testament.accounts import audit
from testament.accounts.roles import allows
from testament.catalog.models import Asset, Derivative
from testament.faces.models import Face
from testament.faces.setting import OFF_LINE, FacesOff, NotAllowed, enabled

ROLE = "investigator"
VIEW_ACTION = "view_face"


def check(session: Session, role: str) -> None:
    """Raise NotAllowed, saying why, unless this role may see clusters here now."""
    if not allows(role, ROLE):
        raise NotAllowed("face clusters are for investigators, reviewers and admins")
    if not enabled(session):
        raise FacesOff(OFF_LINE)


def crop(session: Session, face_id: int) -> tuple[Face, Derivative, Asset] | None:
    """The face, its crop and its asset, if it has a crop."""
    face = session.get(Face, face_id)
    if face is None or face.crop_id is None:
        return None
    derivative = session.get(Derivative, face.crop_id)
    asset = session.get(Asset, face.asset_id)
    if derivative is None or asset is None:
        return None
    return face, derivative, asset


def audit_view(
    session: Session,
    username: str,
    face: Face,
    asset: Asset,
    *,
    clear: bool,
    client: str | None,
) -> None:
    audit.record(
        session,
        username,
        VIEW_ACTION,
        f"asset:{asset.sha256}",
        {
            "face": face.id,
            "cluster": face.cluster_id,
            "shown": "clear" if clear else "blurred",
            "time": face.time,
        },
        client,
    )
