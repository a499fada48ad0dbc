"""A loopback SMTP server that replies to recipient checks from the sandbox directory.

It plays the receiving mail server for ``SmtpVerifier``. Each RCPT TO reply follows
``directory.mailbox_status(address)``, and DATA is always rejected with 554, because a verifier
never sends a message and the sandbox must never accept one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from threading import Lock
from types import TracebackType
from typing import Any, Protocol, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session, syntax

LOOPBACK_ADDRESS = "127.0.0.1"
# The name the server gives in its greeting and EHLO reply. Passing it also keeps aiosmtpd from
# calling socket.getfqdn(), which can wait on a DNS lookup.
SERVER_NAME = "mx.sandbox.invalid"

ACCEPTED = "250 2.1.5 Recipient OK"
UNKNOWN_MAILBOX = "550 5.1.1 No such mailbox here"
GREYLISTED = "450 4.2.0 Greylisted, try again later"
_UNEXPECTED_STATUS = "451 4.3.0 Temporary lookup failure"
_DATA_REJECTED = "554 5.7.1 This server checks recipients only and accepts no message data"

# Directory mailbox statuses and the reply a receiving server would give for each. Catch-all
# domains accept every recipient, and disposable-address services accept mail for any address.
_REPLIES = {
    "valid": ACCEPTED,
    "catch_all": ACCEPTED,
    "disposable": ACCEPTED,
    "invalid": UNKNOWN_MAILBOX,
    "unknown": GREYLISTED,
}


class MailboxDirectory(Protocol):
    """The lookup of the sandbox directory that RCPT replies come from."""

    def mailbox_status(self, address: str) -> str: ...


@dataclass(frozen=True, slots=True)
class RecipientCheck:
    """One RCPT TO command that the server replied to: the address as sent and the reply code."""

    address: str
    code: int


class _RecipientHandler:
    """aiosmtpd handler hooks: the RCPT reply, and a log of every recipient checked."""

    def __init__(self, directory: MailboxDirectory | None, *, accept_all: bool, greylist_all: bool) -> None:
        self._directory = directory
        self._accept_all = accept_all
        self._greylist_all = greylist_all
        self._lock = Lock()
        self._checks: list[RecipientCheck] = []

    def checks(self) -> tuple[RecipientCheck, ...]:
        with self._lock:
            return tuple(self._checks)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd looks hooks up by this name
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _rcpt_options: list[str]
    ) -> str:
        reply = self._reply(address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        with self._lock:
            self._checks.append(RecipientCheck(address, int(reply[:3])))
        return reply

    def _reply(self, address: str) -> str:
        if self._accept_all:
            return ACCEPTED
        if self._greylist_all or self._directory is None:
            return GREYLISTED
        return _REPLIES.get(self._directory.mailbox_status(address), _UNEXPECTED_STATUS)


class _RecipientCheckingSmtp(SMTP):
    @syntax("DATA")
    async def smtp_DATA(self, _arg: str) -> None:  # noqa: N802 - aiosmtpd dispatches commands by this name
        await self.push(_DATA_REJECTED)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _RecipientCheckingSmtp(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # NOTE: aiosmtpd 1.4 finishes start() by connecting to self.port, which is 0 when the
        # operating system picks the port, so it is replaced by the bound port first. This
        # overrides a private method and may need a change on an aiosmtpd upgrade.
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class LoopbackSmtpServer:
    """An aiosmtpd server on an ephemeral loopback port whose RCPT replies follow the directory.

    Directory statuses map to the replies that a receiving server would send: ``valid``,
    ``catch_all`` and ``disposable`` get 250, ``invalid`` gets 550 5.1.1 and ``unknown`` gets
    450 4.2.0 (greylisting). ``accept_all`` makes it a catch-all server that accepts every
    recipient, and ``greylist_all`` defers every recipient. The directory may be ``None`` only
    together with one of them.
    """

    def __init__(
        self,
        directory: MailboxDirectory | None,
        *,
        accept_all: bool = False,
        greylist_all: bool = False,
        host: str = LOOPBACK_ADDRESS,
    ) -> None:
        if accept_all and greylist_all:
            raise ValueError("accept_all and greylist_all contradict each other; set at most one of them")
        if directory is None and not (accept_all or greylist_all):
            raise ValueError("a directory is required unless accept_all or greylist_all is set")
        self._handler = _RecipientHandler(directory, accept_all=accept_all, greylist_all=greylist_all)
        self._host = host
        self._controller: Any = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the SMTP server has no port until start() is called")
        port: int = self._controller.port
        return port

    @property
    def checks(self) -> tuple[RecipientCheck, ...]:
        """The RCPT TO commands replied to so far, in order."""
        return self._handler.checks()

    def start(self) -> Self:
        if self._controller is not None:
            raise RuntimeError("the SMTP server is already running")
        controller = _Controller(self._handler, hostname=self._host, port=0, server_hostname=SERVER_NAME)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop the server. Calling it again does nothing."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
