"""The e-mail channel: the message as a plain-text e-mail over SMTP to the department's
address(es), with the JSON payload attached for systems that read the mailbox.

Settings: ``CITYGROWTH_SMTP_HOST`` (empty: e-mail delivery is off and such attempts fail
with a message saying so), ``_PORT``, ``_SECURITY`` (``starttls``, ``ssl`` or ``none``),
``_USER``/``_PASSWORD`` (login when a user is set), ``_FROM``, ``_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from citygrowth.governance.delivery.message import DeliveryFailed, Message
from citygrowth.governance.models import Case
from citygrowth.i18n import N_
from citygrowth.settings import Settings

ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def addresses(target: str) -> list[str]:
    """The addresses of a channel's target (comma or semicolon separated)."""
    return [a.strip() for a in re.split(r"[,;]", target) if a.strip()]


def compose(message: Message, sender: str, to: list[str], delivery_id: int) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Message-ID"] = make_msgid(f"case-delivery-{delivery_id}")
    mail["X-Citygrowth-Delivery"] = str(delivery_id)
    mail.set_content(message.text)
    mail.add_attachment(json.dumps(message.body, ensure_ascii=False, indent=1).encode(),
                        maintype="application", subtype="json", filename="case.json")
    return mail


def send(case: Case, *, message: Message, target: str, settings: Settings, delivery_id: int,
         **_: Any) -> str:
    """Send over SMTP; returns the receipt (the recipients)."""
    if not settings.smtp_host:
        raise DeliveryFailed(N_("E-mail delivery is off: CITYGROWTH_SMTP_HOST is not set."))
    to = addresses(target)
    if not to:
        raise DeliveryFailed(N_("The channel has no e-mail address."))
    mail = compose(message, settings.smtp_from, to, delivery_id)
    try:
        with _connect(settings) as smtp:
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            refused = smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}") from None
    if refused:
        raise DeliveryFailed("SMTP refused: " + ", ".join(sorted(refused)))
    return "to " + ", ".join(to)


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    if settings.smtp_security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_security == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp
