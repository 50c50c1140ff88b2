"""Match: drop a still or a clip and see which footage it belongs to, and at which second."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from testament.catalog.models import Asset
from testament.fingerprint import FingerprintError
from testament.footage.query import match_file
from testament.web.auth import Viewer, any_user, store_of
from testament.web.pages import render
from testament.web.routes.upload import CHUNK, safe_name

router = APIRouter(include_in_schema=False)


@router.get("/match")
def match_page(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    return render(request, "match.html", result=None, error=None, known={}, query_asset=None)


async def match_upload(request: Request, file: UploadFile) -> dict:
    """Match an uploaded file without preserving it.

    Raises FingerprintError (undecodable) or ValueError (empty).
    """
    with tempfile.TemporaryDirectory(prefix="testament-match-") as folder:
        path = Path(folder) / safe_name(file.filename, 0)
        with path.open("wb") as out:
            while chunk := await file.read(CHUNK):
                out.write(chunk)
        if path.stat().st_size == 0:
            raise ValueError("the file is empty")
        return await run_in_threadpool(match_file, store_of(request), path)


@router.post("/match")
async def match(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    file: Annotated[UploadFile, File()],
) -> Response:
    result, error = None, None
    try:
        result = await match_upload(request, file)
    except (FingerprintError, ValueError) as exc:
        error = f"This file could not be matched: {exc}"
    with store_of(request).read() as session:
        shas = [m["sha256"] for m in (result or {}).get("matches", [])]
        known = {
            a.sha256: a
            for a in session.execute(select(Asset).where(Asset.sha256.in_(shas))).scalars()
        }
    return render(request, "match.html", result=result, error=error, known=known, query_asset=None)
