"""The ZeroBounce adapter against the sandbox's ZeroBounce module, over HTTP on loopback."""

from __future__ import annotations

import httpx
import pytest

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict
from cascade.providers.http import ProviderHttp
from cascade.providers.zerobounce import ZeroBounceVerifier
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import first_person

PROVIDER = "zerobounce"

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def verifier(http: ProviderHttp) -> ZeroBounceVerifier:
    return ZeroBounceVerifier(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_verify_valid_mailbox(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.email_status == "valid" and not p.company.catch_all)

    result = verifier.verify(person.email)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.VALID
    assert result.vendor_status == "valid"
    assert result.vendor_sub_status is None
    assert result.flags == frozenset()
    assert result.http_status == 200
    assert result.latency_ms >= 0


def test_verify_closed_mailbox(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.email_status == "invalid" and bool(p.company.mx_hosts))

    result = verifier.verify(person.email)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID
    assert result.vendor_sub_status == "mailbox_not_found"


def test_verify_unknown_local_part(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: not p.company.catch_all and bool(p.company.mx_hosts))

    result = verifier.verify(f"zz.nobody.here@{person.company.domain}")

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID


def test_verify_domain_without_mx(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: not p.company.mx_hosts)

    result = verifier.verify(person.email)

    assert result.verdict is EmailVerdict.INVALID
    assert result.vendor_sub_status == "no_dns_entries"


def test_verify_stale_address(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.stale_email is not None)
    assert person.stale_email is not None

    result = verifier.verify(person.stale_email)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID


def test_verify_catch_all_domain(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.company.catch_all)

    result = verifier.verify(person.email)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.CATCH_ALL
    assert result.vendor_status == "catch-all"


def test_verify_role_address(directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.role_email is not None and not p.company.catch_all)
    assert person.role_email is not None

    result = verifier.verify(person.role_email)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID
    assert result.vendor_status == "do_not_mail"
    assert result.vendor_sub_status == "role_based"
    assert EmailFlag.ROLE in result.flags


def test_verify_disposable_address(verifier: ZeroBounceVerifier) -> None:
    result = verifier.verify("quick.signup@mailinator.com")

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.DISPOSABLE
    assert result.vendor_sub_status == "disposable"


def test_verify_free_mail_address(verifier: ZeroBounceVerifier) -> None:
    result = verifier.verify("ada.quill.1987@gmail.com")

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.UNKNOWN
    assert EmailFlag.FREE_MAIL in result.flags


def test_verify_wrong_key(http: ProviderHttp, directory: Directory) -> None:
    person = first_person(directory, lambda p: p.email_status == "valid")
    wrong = ZeroBounceVerifier(http, {"api_key": "not-the-sandbox-key"})

    result = wrong.verify(person.email)

    assert result.outcome is AttemptOutcome.AUTH_ERROR


def test_sandbox_rejects_missing_email(sandbox: RunningSandbox) -> None:
    key = SANDBOX_CREDENTIALS[PROVIDER]["api_key"]
    response = httpx.get(f"{sandbox.base_url(PROVIDER)}/v2/validate", params={"api_key": key, "ip_address": ""})

    assert response.status_code == 400
    assert "email" in response.json()["error"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (FaultKind.UNAUTHORIZED, (AttemptOutcome.AUTH_ERROR, 200)),
        (FaultKind.QUOTA_EXHAUSTED, (AttemptOutcome.QUOTA_EXHAUSTED, 200)),
        (FaultKind.ERROR_IN_200, (AttemptOutcome.AUTH_ERROR, 200)),
        (FaultKind.MALFORMED, (AttemptOutcome.BAD_RESPONSE, 200)),
        (FaultKind.SERVER_ERROR, (AttemptOutcome.TRANSIENT_ERROR, 500)),
        (FaultKind.BAD_GATEWAY, (AttemptOutcome.TRANSIENT_ERROR, 502)),
        (FaultKind.UNAVAILABLE, (AttemptOutcome.TRANSIENT_ERROR, 503)),
    ],
)
def test_verify_fault(
    sandbox: RunningSandbox,
    directory: Directory,
    verifier: ZeroBounceVerifier,
    fault: FaultKind,
    expected: tuple[AttemptOutcome, int],
) -> None:
    person = first_person(directory, lambda p: p.email_status == "valid")
    sandbox.state.faults.force(PROVIDER, fault)

    result = verifier.verify(person.email)

    assert result.outcome is expected[0]
    assert result.http_status == expected[1]
    assert result.verdict is EmailVerdict.UNKNOWN


def test_verify_throttled(sandbox: RunningSandbox, directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.email_status == "valid")
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=4))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)

    result = verifier.verify(person.email)

    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.http_status == 429
    assert result.retry_after_seconds == 4.0


def test_verify_timeout(sandbox: RunningSandbox, directory: Directory, verifier: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.email_status == "valid")
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)

    result = verifier.verify(person.email)

    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None


def test_verify_recovers_after_fault(
    sandbox: RunningSandbox, directory: Directory, verifier: ZeroBounceVerifier
) -> None:
    person = first_person(directory, lambda p: p.email_status == "valid" and not p.company.catch_all)
    sandbox.state.faults.force(PROVIDER, FaultKind.SERVER_ERROR)

    failed = verifier.verify(person.email)
    answered = verifier.verify(person.email)

    assert failed.outcome is AttemptOutcome.TRANSIENT_ERROR
    assert answered.outcome is AttemptOutcome.FOUND
    assert answered.verdict is EmailVerdict.VALID
