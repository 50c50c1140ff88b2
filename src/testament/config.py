"""Settings: where the store lives and which backends it uses.

Everything has an embedded default under one home directory (SQLite and a local
folder), so a laptop with no server works out of the box. A team points the same code
at PostgreSQL and object storage through environment variables or flags.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "TESTAMENT_HOME"
DATABASE_ENV = "TESTAMENT_DATABASE_URL"
BLOBS_ENV = "TESTAMENT_BLOB_URL"
# The S3 service for an s3:// blob URL other than AWS (SeaweedFS, MinIO); credentials
# come from the usual AWS_* settings.
S3_ENDPOINT_ENV = "TESTAMENT_S3_ENDPOINT"
ACTOR_ENV = "TESTAMENT_ACTOR"
# A Celery broker (redis://... or amqp://...): processing goes to `testament worker`s.
QUEUE_ENV = "TESTAMENT_QUEUE_URL"
# Seconds before Redis hands an unacknowledged task to another worker (longer than any task).
QUEUE_VISIBILITY_ENV = "TESTAMENT_QUEUE_VISIBILITY_TIMEOUT"
# Seconds before the first retry of a failed task; each further retry waits twice as long.
QUEUE_RETRY_ENV = "TESTAMENT_QUEUE_RETRY_DELAY"
SIGNING_KEY_ENV = "TESTAMENT_SIGNING_KEY"
DEFAULT_HOME = "testament-data"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one store."""

    home: Path
    database_url: str
    blob_url: str
    actor: str
    # Where the private key is kept when not in the store folder (a removable drive).
    signing_key: Path | None = None
    # None: the embedded default, every step runs inside `ingest`.
    queue_url: str | None = None
    s3_endpoint: str | None = None

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key or self.keys_dir / "signing-key.pem"

    @property
    def public_key_path(self) -> Path:
        return self.keys_dir / "signing-key.pub.pem"

    @property
    def custody_head_path(self) -> Path:
        return self.home / "custody.head"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"


def default_actor() -> str:
    """The OS user, which is who acts on evidence from the command line."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def resolve(
    home: str | Path | None = None,
    database_url: str | None = None,
    blob_url: str | None = None,
    actor: str | None = None,
) -> Settings:
    """Combine explicit values, environment variables and defaults, in that order."""
    home_path = Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
    db = database_url or os.environ.get(DATABASE_ENV) or f"sqlite:///{home_path / 'catalog.sqlite'}"
    blobs = blob_url or os.environ.get(BLOBS_ENV) or f"file://{home_path / 'blobs'}"
    who = actor or os.environ.get(ACTOR_ENV) or default_actor()
    key = os.environ.get(SIGNING_KEY_ENV)
    return Settings(
        home=home_path,
        database_url=db,
        blob_url=blobs,
        actor=who,
        signing_key=Path(key).expanduser().resolve() if key else None,
        queue_url=os.environ.get(QUEUE_ENV) or None,
        s3_endpoint=os.environ.get(S3_ENDPOINT_ENV) or None,
    )
