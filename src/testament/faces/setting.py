"""Whether faces are on for this store: off until an admin turns them on, each change signed.

Comparing faces across a locker can point at people; the store's admins decide whether
it runs at all. The choice is a workbench setting in the catalog, and every change is a
custody event naming who made it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.accounts.roles import allows
from testament.faces.models import SETTING_KEY
from testament.investigate.models import WorkbenchSetting
from testament.store import Store

ON, OFF = "on", "off"
CHANGED = "setting_changed"  # the custody action
SUBJECT = f"setting:{SETTING_KEY}"
OFF_LINE = (
    "faces: off for this store; an admin turns them on with `testament faces enable --as USER` "
    "(or POST /api/faces/setting)"
)


class NotAllowed(Exception):
    """The user's role does not allow this (the message says which roles do)."""


class FacesOff(NotAllowed):
    """Faces are off for this store: nobody sees clusters until an admin turns them on."""


def enabled(session: Session) -> bool:
    saved = session.get(WorkbenchSetting, SETTING_KEY)
    return saved is not None and saved.value == ON


def refusal(store: Store) -> str | None:
    """One line saying why faces may not run here, or None when they may."""
    with store.read() as session:
        return None if enabled(session) else OFF_LINE


def set_enabled(store: Store, session: Session, user: User, on: bool) -> bool:
    """Turn faces on or off for the store (admins only); False when it was so already."""
    if not allows(user.role, "admin"):
        raise NotAllowed("only an admin turns faces on or off for the store")
    value = ON if on else OFF
    saved = session.get(WorkbenchSetting, SETTING_KEY)
    if (saved.value if saved else OFF) == value:
        return False
    if saved is None:
        session.add(WorkbenchSetting(key=SETTING_KEY, value=value))
    else:
        saved.value = value
    session.flush()
    store.custody.append(
        session, CHANGED, SUBJECT, {"setting": SETTING_KEY, "value": value}, actor=user.username
    )
    return True
