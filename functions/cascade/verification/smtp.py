"""Verify an email address by asking the domain's own mail server, without sending mail.

The verifier opens an SMTP session (RFC 5321) with the best MX host, sends EHLO, MAIL FROM,
then RCPT TO for a random address at the same domain and RCPT TO for the address itself, and
ends with QUIT. DATA is never sent. When the server accepts the random address, it accepts
every address (a catch-all domain), so accepting the real one proves nothing and the verdict is
``catch_all``.

NOTE: AWS blocks outbound port 25 from Lambda functions, so this verifier cannot reach mail
servers there. ``settings.smtp_verification_enabled`` is off by default and production relies on
the hosted verifiers. The verifier runs in the local stack and against the sandbox's loopback
SMTP server.
"""

from __future__ import annotations

import re
import secrets
import smtplib
import string
import time
from contextlib import suppress
from dataclasses import dataclass, replace

from cascade.domain.models import AttemptOutcome, EmailVerdict, RequestedField
from cascade.normalise.emails import normalise_email
from cascade.providers.base import ProviderCost, ProviderInfo, ProviderKind, RateLimit, VerificationResult
from cascade.verification.email import email_flags
from cascade.verification.mx import MxResolver, MxStatus

INFO = ProviderInfo(
    name="smtp",
    kind=ProviderKind.EMAIL_VERIFIER,
    fields=frozenset({RequestedField.EMAIL}),
    cost=ProviderCost(),
    # NOTE: no vendor documents this budget. It is a self-imposed estimate, because mail servers
    # greylist or block a client that opens many sessions in a short time.
    rate_limit=RateLimit(requests=60, per_seconds=60.0),
    api_version="RFC 5321",
    # There is no base URL, because each check connects to the MX hosts of the address's domain.
    default_base_url="",
)

_ACCEPTED = frozenset({250, 251})
# Reply codes that RFC 5321 uses for "no such mailbox" (550), "user not local" (551) and
# "mailbox name not allowed" (553).
_MAILBOX_REJECTED = frozenset({550, 551, 553})
# The enhanced status code (RFC 3463) at the start of a reply text, such as "5.1.1".
_ENHANCED_STATUS = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# RFC 3463 subject 1 is "addressing status" (bad mailbox, bad domain), and 5.2.1 is "mailbox disabled".
_ADDRESSING_SUBJECT = 1
_MAILBOX_DISABLED = (2, 1)
_PROBE_LENGTH = 20
_PROBE_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class _Reply:
    code: int
    enhanced: tuple[int, int, int] | None

    @classmethod
    def parse(cls, code: int, message: bytes) -> _Reply:
        match = _ENHANCED_STATUS.match(message)
        enhanced = None if match is None else (int(match[1]), int(match[2]), int(match[3]))
        return cls(code, enhanced)

    @property
    def enhanced_text(self) -> str | None:
        if self.enhanced is None:
            return None
        return ".".join(str(part) for part in self.enhanced)

    @property
    def text(self) -> str:
        """The code and enhanced status code, such as "550 5.1.1", without the server's free text."""
        if self.enhanced_text is None:
            return str(self.code)
        return f"{self.code} {self.enhanced_text}"

    @property
    def accepted(self) -> bool:
        return self.code in _ACCEPTED

    @property
    def deferred(self) -> bool:
        return 400 <= self.code < 500


class _ConnectFailedError(Exception):
    """A host that could not be reached or that refused the session in its greeting."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class SmtpVerifier:
    """An ``EmailVerifier`` that checks an address with the recipient domain's mail server over SMTP.

    ``helo_host`` is the name sent in EHLO and ``mail_from`` the envelope sender. Receiving
    servers check both, so both should belong to a domain whose DNS points back at the
    calling host. ``timeout`` applies to each network operation (connect, and each command's
    reply), so one check can take several timeouts in total. ``port`` is used for every MX
    host and is 25 except in tests.
    """

    info = INFO

    def __init__(
        self,
        mx_resolver: MxResolver,
        *,
        helo_host: str,
        mail_from: str,
        port: int = 25,
        timeout: float = 10.0,
    ) -> None:
        self._mx_resolver = mx_resolver
        self._helo_host = helo_host
        self._mail_from = mail_from
        self._port = port
        self._timeout = timeout

    def verify(self, address: str) -> VerificationResult:
        started = time.perf_counter()
        result = self._verify(address)
        return replace(result, latency_ms=round((time.perf_counter() - started) * 1000))

    def _verify(self, address: str) -> VerificationResult:
        email = normalise_email(address)
        if email.address is None or email.ascii_domain is None:
            return VerificationResult(
                AttemptOutcome.FOUND, EmailVerdict.INVALID, detail="the address is not valid email syntax"
            )
        flags = email_flags(email)

        answer = self._mx_resolver.resolve_mx(email.ascii_domain)
        if answer.status in (MxStatus.NO_DOMAIN, MxStatus.NO_MX):
            return VerificationResult(
                AttemptOutcome.FOUND,
                EmailVerdict.INVALID,
                flags=flags,
                detail=f"domain has no mail server ({answer.status.value})",
            )
        if answer.status is MxStatus.ERROR:
            return VerificationResult(
                AttemptOutcome.TRANSIENT_ERROR, flags=flags, detail=f"MX lookup failed: {answer.detail}"
            )

        # An address with a non-ASCII local part has no ASCII form and can only be named in
        # a session that uses the SMTPUTF8 extension (RFC 6531).
        smtputf8 = email.ascii_address is None
        target = email.ascii_address or email.address
        hosts = answer.host_names
        failures: list[_ConnectFailedError] = []
        for host in hosts:
            try:
                client = self._connect(host)
            except _ConnectFailedError as failure:
                failures.append(failure)
                continue
            try:
                result = self._converse(client, target, email.ascii_domain, smtputf8=smtputf8)
            finally:
                _close(client)
            return replace(result, flags=flags)

        timed_out = all(failure.timed_out for failure in failures)
        reasons = ", ".join(failure.reason for failure in failures)
        return VerificationResult(
            AttemptOutcome.TIMEOUT if timed_out else AttemptOutcome.TRANSIENT_ERROR,
            flags=flags,
            detail=f"no connection to any of {len(hosts)} mail host(s): {reasons}",
        )

    def _connect(self, host: str) -> smtplib.SMTP:
        client = smtplib.SMTP(local_hostname=self._helo_host, timeout=self._timeout)
        try:
            code, _ = client.connect(host, self._port)
        except OSError as error:
            # smtplib.SMTPException, including SMTPServerDisconnected, is a subclass of OSError.
            _close(client)
            if _timed_out(error):
                raise _ConnectFailedError("connect or greeting timed out", timed_out=True) from error
            raise _ConnectFailedError(f"connect failed ({type(error).__name__})", timed_out=False) from error
        if code != 220:
            _close(client)
            raise _ConnectFailedError(f"greeting {code}", timed_out=False)
        return client

    def _converse(self, client: smtplib.SMTP, target: str, domain: str, *, smtputf8: bool) -> VerificationResult:
        try:
            return self._probe(client, target, domain, smtputf8=smtputf8)
        except OSError as error:
            if _timed_out(error):
                return VerificationResult(
                    AttemptOutcome.TIMEOUT, detail=f"the mail server did not reply within {self._timeout:g} s"
                )
            if isinstance(error, smtplib.SMTPServerDisconnected):
                return VerificationResult(
                    AttemptOutcome.TRANSIENT_ERROR, detail="the mail server closed the connection during the session"
                )
            if isinstance(error, smtplib.SMTPException):
                # smtplib raises SMTPResponseException for replies it cannot parse.
                return VerificationResult(
                    AttemptOutcome.BAD_RESPONSE,
                    detail=f"the mail server sent an invalid reply ({type(error).__name__})",
                )
            return VerificationResult(
                AttemptOutcome.TRANSIENT_ERROR, detail=f"the SMTP session failed ({type(error).__name__})"
            )

    def _probe(self, client: smtplib.SMTP, target: str, domain: str, *, smtputf8: bool) -> VerificationResult:
        code, _ = client.ehlo()
        if code != 250:
            code, _ = client.helo()
            if code != 250:
                return _session_refused("HELO", code)

        mail_options: list[str] = []
        if smtputf8:
            if not client.has_extn("smtputf8"):
                return VerificationResult(
                    AttemptOutcome.FOUND,
                    EmailVerdict.UNKNOWN,
                    detail="the address has a non-ASCII local part and the mail server does not offer SMTPUTF8",
                )
            mail_options = ["SMTPUTF8"]
            client.command_encoding = "utf-8"

        code, _ = client.mail(self._mail_from, mail_options)
        if code != 250:
            return _session_refused("MAIL FROM", code)

        probe = _Reply.parse(*client.rcpt(f"{_probe_local_part()}@{domain}"))
        reply = _Reply.parse(*client.rcpt(target))
        with suppress(OSError):
            client.quit()
        return _verdict(probe, reply)


def _verdict(probe: _Reply, reply: _Reply) -> VerificationResult:
    """Turn the replies to RCPT TO for the random probe address and for the address into a verdict."""
    if probe.accepted:
        return _session_result(
            reply,
            EmailVerdict.CATCH_ALL,
            f"the server accepted a random address at the domain ({probe.text}), so it accepts every address "
            f"and the reply {reply.text} proves nothing",
        )
    if probe.code < 0 or reply.code < 0:
        return _session_result(reply, None, "the mail server sent a reply without a status code")
    if reply.accepted:
        if probe.deferred:
            return _session_result(
                reply,
                EmailVerdict.UNKNOWN,
                f"the server accepted the address but deferred the random probe address ({probe.text}), "
                "so a catch-all domain cannot be ruled out",
            )
        return _session_result(
            reply,
            EmailVerdict.VALID,
            f"the server accepted the address ({reply.text}) and rejected a random one ({probe.text})",
        )
    if reply.deferred:
        return _session_result(
            reply,
            EmailVerdict.UNKNOWN,
            f"the server deferred the address ({reply.text}), as greylisting does; check it again later",
        )
    if _names_unknown_mailbox(reply):
        return _session_result(reply, EmailVerdict.INVALID, f"the server rejected the mailbox ({reply.text})")
    if 500 <= reply.code < 600:
        return _session_result(
            reply,
            EmailVerdict.UNKNOWN,
            f"the server rejected the address ({reply.text}) for a reason other than an unknown mailbox, "
            "such as a policy block of the sender",
        )
    return _session_result(reply, None, f"the server replied to RCPT TO with the unexpected code {reply.code}")


def _session_result(reply: _Reply, verdict: EmailVerdict | None, detail: str) -> VerificationResult:
    """Build the result of a completed session. ``verdict`` is ``None`` when the replies made no sense."""
    if verdict is None:
        return VerificationResult(
            AttemptOutcome.BAD_RESPONSE,
            vendor_status=str(reply.code),
            vendor_sub_status=reply.enhanced_text,
            detail=detail,
        )
    return VerificationResult(
        AttemptOutcome.FOUND,
        verdict,
        vendor_status=str(reply.code),
        vendor_sub_status=reply.enhanced_text,
        detail=detail,
    )


def _names_unknown_mailbox(reply: _Reply) -> bool:
    if reply.code not in _MAILBOX_REJECTED:
        return False
    if reply.enhanced is None:
        return True
    _, subject, detail = reply.enhanced
    return subject == _ADDRESSING_SUBJECT or (subject, detail) == _MAILBOX_DISABLED


def _session_refused(command: str, code: int) -> VerificationResult:
    # A rejected session reveals nothing about the mailbox. A 4xx may pass later, but a 5xx
    # usually means that the server blocks this client, which no retry fixes.
    outcome = AttemptOutcome.TRANSIENT_ERROR if 400 <= code < 500 else AttemptOutcome.BAD_RESPONSE
    return VerificationResult(outcome, detail=f"the mail server replied to {command} with {code}")


def _probe_local_part() -> str:
    # Starts with a letter, because some servers reject local parts that begin with a digit.
    first = secrets.choice(string.ascii_lowercase)
    return first + "".join(secrets.choice(_PROBE_ALPHABET) for _ in range(_PROBE_LENGTH - 1))


def _timed_out(error: OSError) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected, and the timeout stays as its context.
    return isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError)


def _close(client: smtplib.SMTP) -> None:
    with suppress(OSError):
        client.close()
