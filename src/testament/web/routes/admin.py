"""Administration: users and roles, the violation taxonomy, settings, faces, reference dates,
audit."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from testament.accounts import audit, users
from testament.accounts.models import User
from testament.catalog.models import Asset
from testament.faces import setting as faces_setting
from testament.investigate import taxonomy
from testament.investigate.models import ReferenceDate
from testament.web import settings
from testament.web.auth import Viewer, admin, store_of
from testament.web.pages import render
from testament.web.params import MAX_ID, RecordId

router = APIRouter(include_in_schema=False)


def _page(request: Request, status_code: int = 200, **extra: object) -> Response:
    with store_of(request).read() as session:
        context = {
            "users": session.execute(select(User).order_by(User.username)).scalars().all(),
            "types": taxonomy.all_types(session),
            "references": session.execute(select(ReferenceDate).order_by(ReferenceDate.day))
            .scalars()
            .all(),
            "faces_on": faces_setting.enabled(session),
        }
    context |= {"tile_url": request.app.state.tile_url, "error": None, "notice": None} | extra
    return render(request, "admin.html", status_code=status_code, **context)


@router.get("/admin")
def admin_page(request: Request, viewer: Annotated[Viewer, Depends(admin)]) -> Response:
    return _page(request)


@router.post("/admin/users")
def add_user(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin)],
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    try:
        with store_of(request).write() as session:
            user, password = users.add_user(session, username, role)
            name = user.username
    except users.AccountError as exc:
        return _page(request, 400, error=str(exc))
    return _page(request, notice=f"One-time password for {name}: {password} (shown once)")


def _user(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, f"No user {user_id}.")
    return user


@router.post("/admin/users/{user_id}")
def change_user(
    request: Request,
    user_id: RecordId,
    viewer: Annotated[Viewer, Depends(admin)],
    role: Annotated[str, Form(max_length=16)],
    active: Annotated[bool, Form()] = False,
) -> Response:
    if user_id == viewer.id and (role != "admin" or not active):
        return _page(request, 400, error="You cannot demote or deactivate yourself.")
    try:
        with store_of(request).write() as session:
            user = _user(session, user_id)
            user.role = users.check_role(role)
            user.active = active
            if not active:
                users.end_sessions(session, user)
    except users.AccountError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{user_id}/reset")
def reset(
    request: Request, user_id: RecordId, viewer: Annotated[Viewer, Depends(admin)]
) -> Response:
    with store_of(request).write() as session:
        user = _user(session, user_id)
        password = users.reset_password(session, user)
        name = user.username
    return _page(request, notice=f"New one-time password for {name}: {password} (shown once)")


@router.post("/admin/taxonomy")
def save_violation_type(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin)],
    code: Annotated[str, Form(max_length=64)],
    label: Annotated[str, Form(max_length=200)],
    category: Annotated[str, Form(max_length=100)],
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
    active: Annotated[bool, Form()] = False,
    type_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    try:
        with store_of(request).write() as session:
            taxonomy.save_type(
                session,
                code=code,
                label=label,
                category=category,
                legal_basis=legal_basis,
                active=active,
                type_id=type_id,
            )
    except taxonomy.TaxonomyError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/admin#taxonomy", status_code=303)


@router.post("/admin/settings")
def save_settings(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin)],
    tile_url: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        request.app.state.tile_url = settings.save_tile_url(store_of(request), tile_url)
    except settings.SettingError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/admin#settings", status_code=303)


@router.post("/admin/faces")
def save_faces(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin)],
    enabled: Annotated[bool, Form()] = False,
) -> Response:
    """Turn faces on or off for the store: the same signed custody event as the command line."""
    store = store_of(request)
    with store.write() as session:
        user = _user(session, viewer.id)
        faces_setting.set_enabled(store, session, user, enabled)
    return RedirectResponse("/admin#faces", status_code=303)


@router.post("/admin/reference-dates")
def add_reference_date(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin)],
    day: Annotated[date, Form()],
    label: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    with store_of(request).write() as session:
        session.add(ReferenceDate(day=day, label=label.strip()))
    return RedirectResponse("/admin#reference-dates", status_code=303)


@router.post("/admin/reference-dates/{reference_id}/delete")
def delete_reference_date(
    request: Request, reference_id: RecordId, viewer: Annotated[Viewer, Depends(admin)]
) -> Response:
    with store_of(request).write() as session:
        found = session.get(ReferenceDate, reference_id)
        if found is not None:
            session.delete(found)
    return RedirectResponse("/admin#reference-dates", status_code=303)


@router.get("/admin/audit")
def audit_page(request: Request, viewer: Annotated[Viewer, Depends(admin)]) -> Response:
    with store_of(request).read() as session:
        entries = audit.collapsed(audit.entries(session, limit=500))
        shas = {e.subject.removeprefix("asset:") for e in entries if e.subject.startswith("asset:")}
        filenames = dict(
            session.execute(
                select(Asset.sha256, Asset.original_filename).where(Asset.sha256.in_(shas))
            ).all()
        )
    return render(request, "audit.html", entries=entries, filenames=filenames)
