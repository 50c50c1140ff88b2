"""Telling people about alerts: an HTTP POST of JSON to a webhook, and an email over SMTP.

Both are optional, set by environment variables. Delivery happens after the alert is
committed; an alert whose delivery failed or was cut short is tried again on the
watcher's next round (for a day), so a notification may come twice but is not lost.
Post text travels as plain text in JSON and in a text/plain email, never as markup.
"""

from __future__ import annotations

import json
import os
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import requests
from sqlalchemy import select

from testament.store import Store
from testament.watch.alerts import alert_dict
from testament.watch.models import Alert, Post, Source
from testament.watch.net import USER_AGENT

WEBHOOK_ENV = "TESTAMENT_ALERT_WEBHOOK"
EMAIL_TO_ENV = "TESTAMENT_ALERT_EMAIL"
SMTP_HOST_ENV = "TESTAMENT_SMTP_HOST"
SMTP_PORT_ENV = "TESTAMENT_SMTP_PORT"
SMTP_FROM_ENV = "TESTAMENT_SMTP_FROM"
SMTP_USER_ENV = "TESTAMENT_SMTP_USER"
SMTP_PASSWORD_ENV = "TESTAMENT_SMTP_PASSWORD"
SMTP_STARTTLS_ENV = "TESTAMENT_SMTP_STARTTLS"
RETRY_FOR = timedelta(days=1)
TIMEOUT = 15.0


@dataclass(frozen=True)
class Notifier:
    webhook: str | None = None
    email_to: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "testament@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls) -> Notifier:
        to = tuple(a.strip() for a in os.environ.get(EMAIL_TO_ENV, "").split(",") if a.strip())
        port = os.environ.get(SMTP_PORT_ENV, "25")
        if not port.isdigit():
            raise ValueError(f"{SMTP_PORT_ENV}={port!r} is not a port number")
        return cls(
            webhook=os.environ.get(WEBHOOK_ENV) or None,
            email_to=to,
            smtp_host=os.environ.get(SMTP_HOST_ENV) or None,
            smtp_port=int(port),
            smtp_from=os.environ.get(SMTP_FROM_ENV) or "testament@localhost",
            smtp_user=os.environ.get(SMTP_USER_ENV) or None,
            smtp_password=os.environ.get(SMTP_PASSWORD_ENV) or None,
            starttls=os.environ.get(SMTP_STARTTLS_ENV, "") in ("1", "true", "yes"),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.webhook or (self.email_to and self.smtp_host))

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver one alert everywhere configured; raises on the first failure."""
        if self.webhook:
            response = requests.post(
                self.webhook,
                data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
                timeout=TIMEOUT,
            )
            if not 200 <= response.status_code < 300:
                raise OSError(f"webhook answered HTTP {response.status_code}")
        if self.email_to and self.smtp_host:
            self._mail(payload)

    def _mail(self, payload: dict[str, Any]) -> None:
        message = EmailMessage()
        message["From"] = self.smtp_from
        message["To"] = ", ".join(self.email_to)
        subject = f"[testament] {payload['kind']}: {payload['message']}"
        message["Subject"] = " ".join(subject.split())[:200]
        message.set_content(_body(payload))
        with smtplib.SMTP(self.smtp_host or "", self.smtp_port, timeout=TIMEOUT) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(message)


def _body(payload: dict[str, Any]) -> str:
    post = payload.get("post") or {}
    lines = [
        f"Alert {payload['id']} ({payload['kind']}) at {payload['created_at']}",
        payload["message"],
        "",
    ]
    if post:
        lines += [
            f"Post: {post.get('url') or post.get('key')}",
            f"Channel: {post.get('channel') or ''}",
            f"Posted at: {post.get('posted_at') or 'unknown'}",
            "",
            "Post text (as posted):",
            post.get("text") or "(none)",
            "",
        ]
    lines += ["Details:", json.dumps(payload.get("details"), indent=2, ensure_ascii=False)]
    return "\n".join(lines) + "\n"


def deliver(store: Store, notifier: Notifier, alert_ids: list[int] | None = None) -> int:
    """Send the given alerts (or every undelivered one of the last day); how many went."""
    if not notifier.enabled:
        return 0
    since = datetime.now(UTC) - RETRY_FOR
    with store.read() as session:
        query = (
            select(Alert, Post, Source)
            .outerjoin(Post, Post.id == Alert.post_id)
            .outerjoin(Source, Source.id == Alert.source_id)
            .where(Alert.notified_at.is_(None))
            .order_by(Alert.id)
        )
        query = (
            query.where(Alert.id.in_(alert_ids))
            if alert_ids
            else query.where(Alert.created_at >= since)
        )
        pending = [(a.id, alert_dict(a, p, s)) for a, p, s in session.execute(query).all()]
    sent = 0
    for alert_id, payload in pending:
        try:
            notifier.send(payload)
            error = None
        except (OSError, smtplib.SMTPException, requests.RequestException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with store.write() as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            if error is None:
                alert.notified_at = datetime.now(UTC)
                alert.notify_error = None
                sent += 1
            else:
                alert.notify_error = error[:1000]
    return sent
