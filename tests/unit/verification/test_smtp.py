"""SmtpVerifier against a scripted stand-in for smtplib.SMTP, so that no socket is opened."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field

import pytest

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict, RequestedField
from cascade.providers.base import EmailVerifier, ProviderKind, VerificationResult
from cascade.verification.mx import MxAnswer, MxStatus, StaticMxResolver
from cascade.verification.smtp import INFO, SmtpVerifier

Reply = tuple[int, bytes]
PROBE = "probe"
TARGET = "target"


@dataclass
class _Script:
    """What the scripted server answers; ``rcpt`` maps "probe"/"target" to a reply."""

    rcpt: dict[str, Reply] = field(default_factory=dict)
    connect: dict[str, Reply | Exception] = field(default_factory=dict)
    ehlo: Reply = (250, b"mx.example.com")
    helo: Reply = (250, b"mx.example.com")
    mail: Reply = (250, b"2.1.0 OK")
    rcpt_error: Exception | None = None
    extensions: frozenset[str] = frozenset()
    commands: list[str] = field(default_factory=list)
    target: str = ""


class _ScriptedSmtp:
    script: _Script

    def __init__(self, local_hostname: str | None = None, timeout: float = 0.0) -> None:
        self.local_hostname = local_hostname
        self.timeout = timeout
        self.command_encoding = "ascii"

    def connect(self, host: str, port: int) -> Reply:
        self.script.commands.append(f"connect {host}:{port}")
        outcome = self.script.connect.get(host, (220, b"ready"))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def ehlo(self) -> Reply:
        self.script.commands.append(f"ehlo {self.local_hostname}")
        return self.script.ehlo

    def helo(self) -> Reply:
        self.script.commands.append("helo")
        return self.script.helo

    def has_extn(self, name: str) -> bool:
        return name.lower() in self.script.extensions

    def mail(self, sender: str, options: list[str]) -> Reply:
        self.script.commands.append(f"mail {sender} {' '.join(options)}".rstrip())
        return self.script.mail

    def rcpt(self, recipient: str) -> Reply:
        if self.script.rcpt_error is not None:
            raise self.script.rcpt_error
        kind = TARGET if recipient == self.script.target else PROBE
        self.script.commands.append(f"rcpt {kind} {recipient}")
        return self.script.rcpt.get(kind, (250, b"2.1.5 OK"))

    def quit(self) -> Reply:
        self.script.commands.append("quit")
        return (221, b"bye")

    def close(self) -> None:
        self.script.commands.append("close")


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> _Script:
    scripted = _Script()
    _ScriptedSmtp.script = scripted
    monkeypatch.setattr(smtplib, "SMTP", _ScriptedSmtp)
    return scripted


def _verifier(mapping: dict[str, list[str]] | None = None) -> SmtpVerifier:
    resolver = StaticMxResolver(mapping if mapping is not None else {"example.com": ["10 mx1.example.com"]})
    return SmtpVerifier(resolver, helo_host="verifier.example.org", mail_from="probe@example.org", port=2525)


def _verify(
    script: _Script, address: str = "ada.quill@example.com", mapping: dict[str, list[str]] | None = None
) -> VerificationResult:
    script.target = address
    return _verifier(mapping).verify(address)


def test_smtp_info_is_free_email_verifier() -> None:
    assert INFO.name == "smtp"
    assert INFO.kind is ProviderKind.EMAIL_VERIFIER
    assert INFO.fields == frozenset({RequestedField.EMAIL})
    assert INFO.cost.per_call == 0
    assert INFO.cost.per_success == 0


def test_smtp_verifier_meets_protocol() -> None:
    assert isinstance(_verifier(), EmailVerifier)


@pytest.mark.parametrize(
    ("probe", "target", "outcome", "verdict"),
    [
        # The random probe is accepted: a catch-all server, whatever it says about the address.
        ((250, b"2.1.5 OK"), (250, b"2.1.5 OK"), AttemptOutcome.FOUND, EmailVerdict.CATCH_ALL),
        ((251, b"2.1.5 forwarding"), (550, b"5.1.1 unknown"), AttemptOutcome.FOUND, EmailVerdict.CATCH_ALL),
        ((250, b"2.1.5 OK"), (450, b"4.2.0 greylisted"), AttemptOutcome.FOUND, EmailVerdict.CATCH_ALL),
        # The probe is rejected and the address accepted.
        ((550, b"5.1.1 unknown"), (250, b"2.1.5 OK"), AttemptOutcome.FOUND, EmailVerdict.VALID),
        ((550, b"5.1.1 unknown"), (251, b"2.1.5 forwarding"), AttemptOutcome.FOUND, EmailVerdict.VALID),
        # Mailbox rejections.
        ((550, b"5.1.1 unknown"), (550, b"5.1.1 unknown"), AttemptOutcome.FOUND, EmailVerdict.INVALID),
        ((550, b"5.1.1 unknown"), (550, b"no such user"), AttemptOutcome.FOUND, EmailVerdict.INVALID),
        ((550, b"5.1.1 unknown"), (551, b"5.1.6 moved"), AttemptOutcome.FOUND, EmailVerdict.INVALID),
        ((550, b"5.1.1 unknown"), (553, b"5.1.3 bad address"), AttemptOutcome.FOUND, EmailVerdict.INVALID),
        ((550, b"5.1.1 unknown"), (550, b"5.2.1 mailbox disabled"), AttemptOutcome.FOUND, EmailVerdict.INVALID),
        # Rejections that say nothing about the mailbox.
        ((550, b"5.7.1 blocked"), (550, b"5.7.1 blocked"), AttemptOutcome.FOUND, EmailVerdict.UNKNOWN),
        ((550, b"5.1.1 unknown"), (552, b"5.2.2 mailbox full"), AttemptOutcome.FOUND, EmailVerdict.UNKNOWN),
        ((550, b"5.1.1 unknown"), (554, b"5.7.1 policy"), AttemptOutcome.FOUND, EmailVerdict.UNKNOWN),
        # Temporary replies: greylisting and friends.
        ((450, b"4.2.0 greylisted"), (450, b"4.2.0 greylisted"), AttemptOutcome.FOUND, EmailVerdict.UNKNOWN),
        ((550, b"5.1.1 unknown"), (451, b"4.3.0 try later"), AttemptOutcome.FOUND, EmailVerdict.UNKNOWN),
        ((450, b"4.2.0 greylisted"), (250, b"2.1.5 OK"), AttemptOutcome.FOUND, EmailVerdict.UNKNOWN),
        # Replies that make no sense.
        ((550, b"5.1.1 unknown"), (-1, b"garbage"), AttemptOutcome.BAD_RESPONSE, EmailVerdict.UNKNOWN),
        ((550, b"5.1.1 unknown"), (354, b"go ahead"), AttemptOutcome.BAD_RESPONSE, EmailVerdict.UNKNOWN),
    ],
)
def test_smtp_verdict_from_replies(
    script: _Script, probe: Reply, target: Reply, outcome: AttemptOutcome, verdict: EmailVerdict
) -> None:
    script.rcpt = {PROBE: probe, TARGET: target}
    result = _verify(script)
    assert result.outcome is outcome
    assert result.verdict is verdict


def test_smtp_status_codes_reported(script: _Script) -> None:
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (550, b"5.1.1 <ada.quill@example.com> unknown")}
    result = _verify(script)
    assert result.vendor_status == "550"
    assert result.vendor_sub_status == "5.1.1"
    assert result.detail == "the server rejected the mailbox (550 5.1.1)"


def test_smtp_detail_has_no_server_text(script: _Script) -> None:
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (450, b"4.2.0 <ada.quill@example.com> greylisted")}
    result = _verify(script)
    assert result.detail is not None
    assert "ada.quill" not in result.detail


def test_smtp_session_order(script: _Script) -> None:
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (250, b"2.1.5 OK")}
    _verify(script)
    commands = [command.split(" ", 2)[:2] for command in script.commands]
    assert commands == [
        ["connect", "mx1.example.com:2525"],
        ["ehlo", "verifier.example.org"],
        ["mail", "probe@example.org"],
        ["rcpt", PROBE],
        ["rcpt", TARGET],
        ["quit"],
        ["close"],
    ]


def test_smtp_probe_is_random_at_same_domain(script: _Script) -> None:
    _verify(script)
    _verify(script)
    probes = [command.split(" ")[2] for command in script.commands if command.startswith(f"rcpt {PROBE}")]
    assert len(probes) == 2
    assert probes[0] != probes[1]
    assert all(probe.endswith("@example.com") for probe in probes)
    assert all(len(probe.split("@")[0]) == 20 for probe in probes)


def test_smtp_falls_back_to_helo(script: _Script) -> None:
    script.ehlo = (502, b"command not implemented")
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (250, b"2.1.5 OK")}
    result = _verify(script)
    assert result.verdict is EmailVerdict.VALID
    assert "helo" in script.commands


@pytest.mark.parametrize(
    ("ehlo", "helo", "mail", "outcome"),
    [
        ((502, b""), (421, b"busy"), (250, b""), AttemptOutcome.TRANSIENT_ERROR),
        ((502, b""), (554, b"go away"), (250, b""), AttemptOutcome.BAD_RESPONSE),
        ((250, b""), (250, b""), (451, b"try later"), AttemptOutcome.TRANSIENT_ERROR),
        ((250, b""), (250, b""), (550, b"5.7.1 sender blocked"), AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_smtp_refused_session_is_failure(
    script: _Script, ehlo: Reply, helo: Reply, mail: Reply, outcome: AttemptOutcome
) -> None:
    script.ehlo, script.helo, script.mail = ehlo, helo, mail
    result = _verify(script)
    assert result.outcome is outcome
    assert result.verdict is EmailVerdict.UNKNOWN
    assert not any(command.startswith("rcpt") for command in script.commands)


def test_smtp_tries_next_host_on_refused_connection(script: _Script) -> None:
    script.connect = {"mx1.example.com": ConnectionRefusedError()}
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (250, b"2.1.5 OK")}
    result = _verify(script, mapping={"example.com": ["10 mx1.example.com", "20 mx2.example.com"]})
    assert result.verdict is EmailVerdict.VALID
    assert [command for command in script.commands if command.startswith("connect")] == [
        "connect mx1.example.com:2525",
        "connect mx2.example.com:2525",
    ]


def test_smtp_tries_next_host_on_bad_greeting(script: _Script) -> None:
    script.connect = {"mx1.example.com": (554, b"no service")}
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (250, b"2.1.5 OK")}
    result = _verify(script, mapping={"example.com": ["mx1.example.com", "mx2.example.com"]})
    assert result.verdict is EmailVerdict.VALID


@pytest.mark.parametrize(
    ("errors", "outcome"),
    [
        ([ConnectionRefusedError(), ConnectionRefusedError()], AttemptOutcome.TRANSIENT_ERROR),
        ([TimeoutError(), TimeoutError()], AttemptOutcome.TIMEOUT),
        ([TimeoutError(), ConnectionRefusedError()], AttemptOutcome.TRANSIENT_ERROR),
        ([smtplib.SMTPServerDisconnected(), OSError()], AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_smtp_no_reachable_host(script: _Script, errors: list[Exception], outcome: AttemptOutcome) -> None:
    script.connect = {"mx1.example.com": errors[0], "mx2.example.com": errors[1]}
    result = _verify(script, mapping={"example.com": ["mx1.example.com", "mx2.example.com"]})
    assert result.outcome is outcome
    assert result.detail is not None
    assert result.detail.startswith("no connection to any of 2 mail host(s)")


def _disconnected_by_timeout() -> smtplib.SMTPServerDisconnected:
    """Build the error smtplib raises when a read times out: a disconnect with the timeout as context."""
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as timeout:
            raise smtplib.SMTPServerDisconnected(f"Connection unexpectedly closed: {timeout}")  # noqa: B904
    except smtplib.SMTPServerDisconnected as error:
        return error


def test_smtp_greeting_timeout_is_timeout(script: _Script) -> None:
    script.connect = {"mx1.example.com": _disconnected_by_timeout()}
    result = _verify(script)
    assert result.outcome is AttemptOutcome.TIMEOUT


def test_smtp_reply_timeout_is_timeout(script: _Script) -> None:
    script.rcpt_error = _disconnected_by_timeout()
    result = _verify(script)
    assert result.outcome is AttemptOutcome.TIMEOUT


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (TimeoutError(), AttemptOutcome.TIMEOUT),
        (smtplib.SMTPServerDisconnected(), AttemptOutcome.TRANSIENT_ERROR),
        (ConnectionResetError(), AttemptOutcome.TRANSIENT_ERROR),
        (smtplib.SMTPResponseException(500, b"Line too long."), AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_smtp_session_failure_outcome(script: _Script, error: Exception, outcome: AttemptOutcome) -> None:
    script.rcpt_error = error
    result = _verify(script)
    assert result.outcome is outcome
    assert "close" in script.commands


@pytest.mark.parametrize(
    ("mapping", "status"),
    [({"example.com": []}, "no_mx"), ({"example.com": ["0 ."]}, "no_mx"), ({}, "no_domain")],
)
def test_smtp_no_mail_server_is_invalid(script: _Script, mapping: dict[str, list[str]], status: str) -> None:
    script.target = "ada.quill@example.com"
    result = SmtpVerifier(StaticMxResolver(mapping), helo_host="h.example.org", mail_from="p@example.org").verify(
        "ada.quill@example.com"
    )
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID
    assert result.detail == f"domain has no mail server ({status})"
    assert script.commands == []


def test_smtp_mx_error_is_transient(script: _Script) -> None:
    class _Failing:
        def resolve_mx(self, domain: str) -> MxAnswer:
            return MxAnswer(MxStatus.ERROR, detail="the MX lookup timed out after 3 s")

    result = SmtpVerifier(_Failing(), helo_host="h.example.org", mail_from="p@example.org").verify("a@example.com")
    assert result.outcome is AttemptOutcome.TRANSIENT_ERROR
    assert script.commands == []


def test_smtp_invalid_syntax_calls_nothing(script: _Script) -> None:
    result = _verifier().verify("not an address")
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID
    assert script.commands == []


def test_smtp_flags_from_address(script: _Script) -> None:
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (250, b"2.1.5 OK")}
    result = _verify(script, "info@gmail.com", mapping={"gmail.com": ["mx1.gmail.com"]})
    assert result.flags == frozenset({EmailFlag.ROLE, EmailFlag.FREE_MAIL})


def test_smtp_non_ascii_local_part_needs_smtputf8(script: _Script) -> None:
    result = _verify(script, "zoë@example.com")
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.detail is not None
    assert "SMTPUTF8" in result.detail
    assert not any(command.startswith("mail") for command in script.commands)


def test_smtp_non_ascii_local_part_with_smtputf8(script: _Script) -> None:
    script.extensions = frozenset({"smtputf8"})
    script.rcpt = {PROBE: (550, b"5.1.1 unknown"), TARGET: (250, b"2.1.5 OK")}
    result = _verify(script, "zoë@example.com")
    assert result.verdict is EmailVerdict.VALID
    assert "mail probe@example.org SMTPUTF8" in script.commands
