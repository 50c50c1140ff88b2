"""`testament export ...` and `testament verify-package`: evidence packages and their checks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    asset_or_fail,
    console,
    counted,
    err_console,
    escape,
    fail,
    opened,
)
from testament.report import timestamps

if TYPE_CHECKING:
    from testament.media.redact import Detector
    from testament.report.document import Document
    from testament.report.packages import PackageResult
    from testament.store import Store

app = typer.Typer(help="Evidence packages and tables for others.", no_args_is_help=True)

OutOption = Annotated[
    Path, typer.Option("--out", help="A .zip file, or a new folder for the bag.", dir_okay=True)
]
IncludeOption = Annotated[
    list[str] | None,
    typer.Option("--include", help="Also include: derivatives (thumbnails, keyframes)."),
]
RedactOption = Annotated[
    bool,
    typer.Option(
        "--redact",
        help="Also include copies with faces blurred (needs testament[redact]); "
        "the originals stay in the package.",
    ),
]
TsaUrlOption = Annotated[
    str | None,
    typer.Option(
        "--tsa-url",
        envvar=timestamps.TSA_URL_ENV,
        help="RFC 3161 timestamp authority to stamp the tag manifest.",
        show_default=False,
    ),
]
TsaCaOption = Annotated[
    Path | None,
    typer.Option(
        "--tsa-ca",
        envvar=timestamps.TSA_CA_ENV,
        help="PEM certificates of the timestamp authority (needed with --tsa-url).",
        show_default=False,
    ),
]


def _options(
    include: list[str] | None, redact: bool, tsa_url: str | None, tsa_ca: Path | None
) -> tuple[bool, timestamps.Authority | None, Detector | None]:
    detector = None
    if redact:
        from testament.media.redact import RedactionUnavailable, load_detector

        try:
            detector = load_detector()
        except RedactionUnavailable as exc:
            fail(f"--redact: {exc}")
    unknown = sorted(set(include or []) - {"derivatives"})
    if unknown:
        fail(f"--include: unknown {', '.join(unknown)} (choose: derivatives)")
    authority = None
    if tsa_url:
        if tsa_ca is None:
            fail("--tsa-url needs --tsa-ca (the authority's PEM certificates) to check its tokens")
        try:
            authority = timestamps.Authority.load(tsa_url, tsa_ca)
        except timestamps.TimestampError as exc:
            fail(str(exc))
    return "derivatives" in (include or []), authority, detector


def _redacted(
    store: Store, ids: list[int], out: Path, detector: Detector | None
) -> dict[str, str] | None:
    """Make (or reuse) a redacted copy of each image and video; asset sha256 to copy sha256."""
    if detector is None:
        return None
    from testament.catalog.models import Asset
    from testament.media.redact import RedactionError, ensure_redacted

    if out.exists():
        fail(f"{out}: already exists; choose a new name")
    with store.read() as session:
        assets = [session.get(Asset, asset_id) for asset_id in ids]
        for asset in assets:
            session.expunge(asset)
    chosen = {}
    for asset in assets:
        try:
            derivative = ensure_redacted(store, asset, detector)
        except RedactionError as exc:
            fail(f"--redact: asset {asset.sha256[:12]}: {exc}")
        if derivative is not None:
            chosen[asset.sha256] = derivative.sha256
            params = derivative.params or {}
            found = params.get("faces", params.get("face_boxes", 0))
            err_console.print(
                f"redacted {asset.sha256[:12]}: {found} face box(es) blurred", highlight=False
            )
    return chosen


def _package(
    store: Store,
    ids: list[int],
    out: Path,
    derivatives: bool,
    authority: timestamps.Authority | None,
    detector: Detector | None,
    incident_id: int | None = None,
) -> PackageResult:
    """Redact if asked, then build the package; a one-line error if it cannot be made."""
    from testament.report.packages import PackageError, build_package

    redacted = _redacted(store, ids, out, detector)
    try:
        return build_package(
            store,
            ids,
            out,
            incident_id=incident_id,
            with_derivatives=derivatives,
            tsa=authority,
            redacted=redacted,
        )
    except (PackageError, timestamps.TimestampError) as exc:
        fail(str(exc))


def _report(result: PackageResult) -> None:
    console.print(
        f"wrote {escape(str(result.path))}: {counted(result.assets, 'asset')}, "
        f"{counted(result.derivatives, 'derivative')}, {counted(result.events, 'custody event')}",
        highlight=False,
    )
    if result.redacted:
        console.print(
            f"{result.redacted} redacted copy(ies) under data/derivatives/ (listed in "
            "README.txt); the originals are included unredacted",
            highlight=False,
        )
    if result.timestamp is not None:
        console.print(
            f"timestamped {result.timestamp.time.isoformat()} by "
            f"{escape(result.timestamp.authority)}",
            highlight=False,
        )


@app.command("assets")
def export_assets(
    sha256_prefixes: Annotated[list[str], typer.Argument(help="Assets by SHA-256 prefix.")],
    out: OutOption,
    include: IncludeOption = None,
    redact: RedactOption = False,
    tsa_url: TsaUrlOption = None,
    tsa_ca: TsaCaOption = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Package chosen assets as a BagIt bag that anyone can verify."""
    derivatives, authority, detector = _options(include, redact, tsa_url, tsa_ca)
    with opened(home, database_url) as store:
        with store.read() as session:
            ids = [asset_or_fail(session, prefix).id for prefix in sha256_prefixes]
        result = _package(store, ids, out, derivatives, authority, detector)
    _report(result)


@app.command("incident")
def export_incident(
    incident_id: Annotated[int, typer.Argument(help="The incident's number.")],
    out: OutOption,
    include: IncludeOption = None,
    redact: RedactOption = False,
    tsa_url: TsaUrlOption = None,
    tsa_ca: TsaCaOption = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Package an incident with every asset that supports it."""
    from testament.investigate.models import Incident

    derivatives, authority, detector = _options(include, redact, tsa_url, tsa_ca)
    with opened(home, database_url) as store:
        with store.read() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                fail(f"no incident {incident_id}")
            ids = sorted({link.asset_id for link in incident.assets})
        if not ids:
            fail(f"incident {incident_id} has no linked assets to package")
        result = _package(store, ids, out, derivatives, authority, detector, incident_id)
    _report(result)


def verify_package_command(
    package: Annotated[Path, typer.Argument(help="A package: .zip file or bag folder.")],
    tsa_ca: Annotated[
        Path | None,
        typer.Option(
            "--tsa-ca",
            help="Check the timestamp against these authority certificates, not the package's.",
        ),
    ] = None,
    key_id: Annotated[
        str | None,
        typer.Option(
            "--key-id",
            help="The signing key id confirmed with the sender: any other key is a problem.",
        ),
    ] = None,
    max_unpacked_gb: Annotated[
        float | None,
        typer.Option(
            "--max-unpacked-gb",
            help="Refuse a zip that would unpack to more than this "
            "(default 256, or TESTAMENT_VERIFY_MAX_BYTES bytes).",
            min=0,
        ),
    ] = None,
) -> None:
    """Check an evidence package on its own (no store needed); exit 1 if anything is wrong."""
    from testament.report.unpack import GIB
    from testament.report.verify_package import PackageUnreadable, ZipLimits, verify_package

    limits = None if max_unpacked_gb is None else ZipLimits(max_bytes=int(max_unpacked_gb * GIB))
    try:
        report = verify_package(package, tsa_ca, expected_key_id=key_id, limits=limits)
    except PackageUnreadable as exc:
        fail(str(exc))
    for note in report.notes:
        console.print(escape(note), highlight=False)
    for problem in report.problems:
        console.print(f"[bold red]problem:[/] {escape(problem)}", highlight=False)
    summary = (
        f"{counted(report.files, 'file')}, {counted(report.assets, 'asset')} and "
        f"{counted(report.events, 'custody event')} checked"
    )
    if report.intact:
        console.print(f"{summary}: intact", highlight=False)
        return
    console.print(f"{summary}: {counted(len(report.problems), 'problem')}", highlight=False)
    raise typer.Exit(1)


@app.command("table")
def export_table(
    kind: Annotated[
        str,
        typer.Argument(help="incidents, assets, captures, actors, attributions or accountability"),
    ],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or geojson")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of standard output.")
    ] = None,
    bom: Annotated[
        bool, typer.Option("--bom", help="Start CSV with a UTF-8 byte-order mark (Excel).")
    ] = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """A whole table for spreadsheets, scripts or maps."""
    from testament.report import tables

    if kind not in tables.KINDS:
        fail(f"unknown table {kind!r}; choose one of {', '.join(tables.KINDS)}")
    with opened(home, database_url) as store, store.read() as session:
        try:
            text = tables.render(session, kind, fmt)
        except ValueError as exc:
            fail(str(exc))
    encoding = "utf-8-sig" if bom and fmt == "csv" else "utf-8"
    if out is None:
        sys.stdout.buffer.write(text.encode(encoding))
    else:
        out.write_text(text, encoding=encoding, newline="")


import_app = typer.Typer(help="Bring tables back in.", no_args_is_help=True)


IMPORTED = {
    "actors": "actor",
    "attributions": "attribution",
    "accountability": "accountability event",
}


@import_app.command("table")
def import_table(
    kind_or_path: Annotated[
        str,
        typer.Argument(
            metavar="[KIND] PATH",
            help="actors, attributions or accountability, then the CSV; a CSV alone is incidents",
        ),
    ],
    author: Annotated[str, typer.Option("--as", help="The workbench user recorded as the author.")],
    path: Annotated[Path | None, typer.Argument(hidden=True)] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create records from a CSV; bad rows are named by line and nothing of them is saved."""
    from testament.report.incident_import import ImportFileError, import_incidents

    if path is None:
        kind, path = "incidents", Path(kind_or_path)
    elif kind_or_path in IMPORTED:
        kind = kind_or_path
    else:
        fail(f"unknown table {kind_or_path!r}; choose one of {', '.join(IMPORTED)}")
    with opened(home, database_url) as store:
        try:
            if kind == "incidents":
                result = import_incidents(store, path, author)
            else:
                from testament.actors.importing import import_table as import_actor_table

                result = import_actor_table(store, kind, path, author)
        except ImportFileError as exc:
            fail(str(exc))
    for error in result.errors:
        err_console.print(f"[bold red]bad row[/] {escape(error)}", highlight=False)
    console.print(
        f"{counted(len(result.created), IMPORTED.get(kind, 'incident'))} imported, "
        f"{counted(len(result.errors), 'bad row')}",
        highlight=False,
    )
    if result.errors:
        raise typer.Exit(1)


# Reports import matplotlib and fpdf2 when run, so that other commands start quickly.
report_app = typer.Typer(help="Reports to read: one incident, or the whole case.")
FormatOption = Annotated[str, typer.Option("--format", help="html or pdf")]


def _check_format(fmt: str) -> None:
    if fmt not in ("html", "pdf"):
        fail(f"--format: {fmt!r} is not html or pdf")


def _write_report(document: Document, fmt: str, out: Path | None, default: str) -> None:
    from testament.report.document import to_html, to_pdf

    target = out or Path(f"{default}.{fmt}")
    if fmt == "html":
        target.write_text(to_html(document), encoding="utf-8")
    else:
        target.write_bytes(to_pdf(document))
    console.print(f"wrote {escape(str(target))}", highlight=False)


@report_app.command("incident")
def report_incident(
    incident_id: Annotated[int, typer.Argument(help="The incident's number.")],
    fmt: FormatOption = "html",
    out: Annotated[Path | None, typer.Option("--out", help="Default: incident-ID.FORMAT")] = None,
    unblurred: Annotated[
        bool, typer.Option("--unblurred", help="Show stills as they are, not blurred.")
    ] = False,
    faces_for: Annotated[
        str,
        typer.Option(
            "--faces-for",
            help="Include the faces found, for this workbench user (investigators and "
            "admins, while faces are on); without it the report leaves faces out.",
        ),
    ] = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """An incident with its evidence, a map of its place and a timeline of its footage."""
    from testament.report.incident_report import incident_document

    _check_format(fmt)
    with opened(home, database_url) as store:
        if faces_for:
            _check_faces_reader(store, faces_for)
        try:
            document = incident_document(
                store, incident_id, unblurred=unblurred, with_faces=bool(faces_for)
            )
        except LookupError as exc:
            fail(str(exc))
        _write_report(document, fmt, out, f"incident-{incident_id}")


def _check_faces_reader(store: Store, username: str) -> None:
    """Faces go into a report only for a reader who may see face clusters now."""
    from testament.accounts.users import find_user
    from testament.faces.access import check
    from testament.faces.setting import FacesOff, NotAllowed

    with store.read() as session:
        user = find_user(session, username)
        if user is None or not user.active:
            fail(f"--faces-for: no active user {username!r}")
        try:
            check(session, user.role)
        except (NotAllowed, FacesOff) as exc:
            fail(f"--faces-for {username}: {exc}")


@report_app.command("case")
def report_case(
    fmt: FormatOption = "html",
    out: Annotated[Path | None, typer.Option("--out", help="Default: case-report.FORMAT")] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Statistics for the whole store, with a timeline and a map."""
    from testament.report.case_report import case_document

    _check_format(fmt)
    with opened(home, database_url) as store:
        _write_report(case_document(store), fmt, out, "case-report")
