"""The login throttle, kept in the catalog so that every web process counts the same failures.

At most `limit` failed logins per name, and four times that per client address, in a
window that opens at a key's first failure. The table is bounded whatever is sent: it has
`max_keys` slots, a key's slot is an HMAC of the key under a secret kept in the catalog
(so nobody outside can aim a name at another key's slot), and a key takes its slot from
whatever was there. Names and addresses have slots of their own (the first half and the
second), so one attempt's two keys never take each other's slot. Each attempt costs one
indexed read, and each failure one upsert per key: constant work however many keys exist.
Only failures are stored (asking stores nothing), and only digests, never the names tried.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Float, Integer, String, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from testament.catalog.database import WRITER_OPTION
from testament.catalog.models import Base

KEY_ROW = 1


class LoginFailure(Base):
    """One slot: the key (as a digest) that last failed there, its count and its window."""

    __tablename__ = "login_failures"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_hash: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[float] = mapped_column(Float)  # seconds since the epoch


class LoginThrottleKey(Base):
    """The secret that places keys in slots, made once by whichever process needs it first."""

    __tablename__ = "login_throttle_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    secret: Mapped[str] = mapped_column(String(64))


class LoginThrottle:
    """Counts failed logins in the catalog; `wait_seconds` says whether one may be tried now."""

    def __init__(
        self, engine: Engine, limit: int = 5, window: float = 900.0, max_keys: int = 10_000
    ) -> None:
        self.engine = engine
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._secret: bytes | None = None

    def __len__(self) -> int:
        """How many slots hold a key (for tests and for looking)."""
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(LoginFailure)).scalar_one()

    def _keys(self, username: str, client: str) -> list[tuple[int, str, int]]:
        """(slot, digest, limit) of the name's key and of the client address's key."""
        return [
            (*self._place(f"user:{username}", names=True), self.limit),
            (*self._place(f"ip:{client}", names=False), self.limit * 4),
        ]

    def _place(self, key: str, names: bool) -> tuple[int, str]:
        """The key's slot, among the names' slots or the addresses', and its digest."""
        digest = hmac.new(self._key(), key.encode("utf-8"), hashlib.sha256).hexdigest()
        names_slots = self.max_keys // 2
        if names:
            return int(digest[:15], 16) % names_slots, digest
        return names_slots + int(digest[:15], 16) % (self.max_keys - names_slots), digest

    def _key(self) -> bytes:
        """The catalog's secret, made by the first process that asks; it never changes."""
        if self._secret is None:
            with self._writer().begin() as connection:
                insert = _insert(connection.dialect.name)
                connection.execute(
                    insert(LoginThrottleKey)
                    .values(id=KEY_ROW, secret=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=["id"])
                )
                secret = connection.execute(
                    select(LoginThrottleKey.secret).where(LoginThrottleKey.id == KEY_ROW)
                ).scalar_one()
            self._secret = bytes.fromhex(secret)
        return self._secret

    def _writer(self) -> Engine:
        # On SQLite, take the write lock at BEGIN (see catalog/database.py); PostgreSQL's
        # upserts lock the one row they change, and nothing here takes the store's write lock.
        return self.engine.execution_options(**{WRITER_OPTION: True})

    def wait_seconds(self, username: str, client: str) -> int:
        """0 when a login may be tried now; otherwise how long to wait."""
        now = time.time()
        keys = self._keys(username, client)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(LoginFailure).where(LoginFailure.slot.in_([slot for slot, _, _ in keys]))
            ).all()
        found = {row.slot: row for row in rows}
        waits = []
        for slot, digest, limit in keys:
            row = found.get(slot)
            if row is None or row.key_hash != digest or row.failures < limit:
                continue
            left = row.window_start + self.window - now
            if left > 0:
                waits.append(int(left) + 1)
        return max(waits, default=0)

    def failed(self, username: str, client: str) -> None:
        """Count a failure against the name and the address, each in one atomic upsert."""
        now = time.time()
        keys = sorted(self._keys(username, client))  # in one lock order; may read the secret
        with self._writer().begin() as connection:
            insert = _insert(connection.dialect.name)
            for slot, digest, _ in keys:
                proposed = insert(LoginFailure).values(
                    slot=slot, key_hash=digest, failures=1, window_start=now
                )
                table = LoginFailure.__table__.c
                # The same key within its window counts on; anything else starts afresh.
                same = (table.key_hash == proposed.excluded.key_hash) & (
                    table.window_start > now - self.window
                )
                connection.execute(
                    proposed.on_conflict_do_update(
                        index_elements=["slot"],
                        set_={
                            "key_hash": proposed.excluded.key_hash,
                            "failures": case((same, table.failures + 1), else_=1),
                            "window_start": case(
                                (same, table.window_start), else_=proposed.excluded.window_start
                            ),
                        },
                    )
                )

    def succeeded(self, username: str) -> None:
        """A correct password clears the name's failures (not the address's)."""
        slot, digest = self._place(f"user:{username}", names=True)
        with self._writer().begin() as connection:
            connection.execute(
                delete(LoginFailure).where(
                    LoginFailure.slot == slot, LoginFailure.key_hash == digest
                )
            )


def _insert(dialect: str) -> Callable[..., Any]:
    """INSERT with ON CONFLICT, which SQLite and PostgreSQL spell the same."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
