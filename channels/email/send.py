"""Submit one mail over SMTP (aiosmtplib) and map the outcome to :mod:`bot.errors`.

4xx replies, timeouts and connection failures are worth retrying
(:class:`TransientSendError`); 5xx replies — a refused recipient, a rejected message, failed
authentication — are not (:class:`PermanentSendError`, the reply is dead-lettered). SMTP has
no retry-after, so there is no :class:`RetryAfter` here.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from bot.errors import PermanentSendError, TransientSendError

from .config import EmailConfig, tls_context

__all__ = ["send_mail"]


def _by_code(code: int, what: str) -> TransientSendError | PermanentSendError:
    if 400 <= code < 500:
        return TransientSendError(f"SMTP {what}: {code} (temporary)")
    return PermanentSendError(f"SMTP {what}: {code}")


async def send_mail(mail: EmailMessage, config: EmailConfig, recipient: str) -> None:
    """Send ``mail`` to ``recipient`` with the envelope sender of ``config`` (module doc).
    With ``starttls`` a server that does not offer STARTTLS is refused (no downgrade)."""
    security = config.smtp_security
    client = aiosmtplib.SMTP(
        hostname=config.smtp_host,
        port=config.smtp_port,
        use_tls=security == "tls",
        start_tls=False,  # done below, explicitly, so it can never be skipped
        tls_context=tls_context(config.ca_file) if security != "none" else None,
        timeout=config.timeout,
    )
    try:
        async with client:
            if security == "starttls":
                await client.ehlo()
                if not client.supports_extension("starttls"):
                    raise PermanentSendError("SMTP server does not offer STARTTLS")
                await client.starttls()
            if config.smtp_user:
                await client.login(config.smtp_user, config.smtp_password)
            await client.send_message(mail, sender=config.envelope_sender, recipients=[recipient])
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientSendError(f"SMTP recipient refused: {codes} (temporary)") from exc
        raise PermanentSendError(f"SMTP recipient refused: {codes}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, type(exc).__name__) from exc
    except aiosmtplib.SMTPNotSupported as exc:  # e.g. AUTH configured but not offered
        raise PermanentSendError(f"SMTP server lacks a required feature: {exc}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientSendError(f"SMTP connection failed: {type(exc).__name__}") from exc
