"""The login throttle, kept in the catalog so that every web process counts the same failures.

At most `limit` failed logins per name, and four times that per client address, in a
window that opens at a key's first failure. The table is bounded whatever is sent: it has
`max_keys` slots, a key's slot is an HMAC of the key under a secret kept in the catalog
(so nobody outside can aim a name at another key's slot), and a key takes its slot from
whatever was there. Each attempt costs one indexed read, and each failure one upsert per
key: constant work however many keys exist. Only failures are stored (asking stores
nothing), and only digests, never the names tried.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from testament.catalog.models import Base


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
