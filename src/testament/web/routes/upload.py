"""Uploading files and URLs through the ingest, with progress shown while it runs."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from testament.collect.urls import is_url
from testament.web.auth import Viewer, investigator, store_of
from testament.web.jobs import Job
from testament.web.pages import render

router = APIRouter(include_in_schema=False)
UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)
CHUNK = 1 << 20
MAX_FILES = 1000
MAX_URLS = 1000


def safe_name(name: str | None, index: int) -> str:
    """A file name to save under (the browser's name is hostile input); keeps the extension."""
    base = UNSAFE_NAME.sub("_", Path(name or "").name).strip(" .")[:180]
    return base or f"upload-{index}"


def _job(request: Request, viewer: Viewer, job_id: str) -> Job:
    job = request.app.state.jobs.get(store_of(request), job_id)
    if job is None or (job.owner != viewer.username and not viewer.may("admin")):
        raise HTTPException(404, "No such upload.")
    return job


@router.get("/upload")
def upload_page(request: Request, viewer: Annotated[Viewer, Depends(investigator)]) -> Response:
    return render(request, "upload.html", error=None)


@router.post("/upload")
async def upload(request: Request, viewer: Annotated[Viewer, Depends(investigator)]) -> Response:
    """Files (`files`) and web addresses (`urls`, one a line) to preserve.

    The form is read here, after the role check, rather than declared as parameters
    (which FastAPI would parse first): someone who may not upload sends nothing to disk.
    """
    form = await request.form(max_files=MAX_FILES)
    try:
        chosen = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        urls = form.get("urls")
        lines = [line.strip() for line in str(urls or "").splitlines() if line.strip()]
        error = _refusal(lines, chosen)
        if error:
            return render(request, "upload.html", status_code=400, error=error)
        folder = Path(tempfile.mkdtemp(prefix="testament-upload-"))
        saved = [await _save(folder, index, f) for index, f in enumerate(chosen)]
    finally:
        await form.close()
    job = request.app.state.jobs.start(store_of(request), viewer.username, saved, lines, folder)
    return RedirectResponse(f"/upload/{job.id}", status_code=303)


def _refusal(lines: list[str], files: list[UploadFile]) -> str | None:
    if len(lines) > MAX_URLS:
        return f"At most {MAX_URLS} web addresses at a time."
    bad = [line for line in lines if not is_url(line)]
    if bad:
        return f"Not a web address: {bad[0][:300]}"
    if not (files or lines):
        return "Choose at least one file or paste a URL."
    return None


async def _save(folder: Path, index: int, upload_file: UploadFile) -> tuple[Path, str]:
    """Copy one uploaded file into `folder`; returns its path and the browser's name for it."""
    target = folder / str(index) / safe_name(upload_file.filename, index)
    target.parent.mkdir()
    with target.open("wb") as out:
        while chunk := await upload_file.read(CHUNK):
            out.write(chunk)
    return target, upload_file.filename or target.name


@router.get("/upload/{job_id}")
def upload_status(
    request: Request, job_id: str, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    return render(request, "upload_status.html", job=_job(request, viewer, job_id))


@router.get("/upload/{job_id}/progress")
def upload_progress(
    request: Request, job_id: str, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    """The progress fragment that the status page polls (htmx)."""
    return render(request, "upload_progress.html", job=_job(request, viewer, job_id))
