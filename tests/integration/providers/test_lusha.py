"""The Lusha adapter against the sandbox's Lusha emulation over loopback HTTP."""

from __future__ import annotations

from typing import cast

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, PhoneVerdict, RequestedField
from cascade.normalise.phones import LineType
from cascade.providers.http import ProviderHttp
from cascade.providers.lusha import LushaFinder
from infra.sandbox.directory import Directory, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from infra.sandbox.vendors.lusha import LushaSandbox
from tests.integration.providers.support import current_record, first_person, normalised

PROVIDER = "lusha"
EMAIL = frozenset({RequestedField.EMAIL})
PHONE = frozenset({RequestedField.PHONE})
BOTH = frozenset({RequestedField.EMAIL, RequestedField.PHONE})

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def vendor(sandbox: RunningSandbox) -> LushaSandbox:
    """The Lusha module that the sandbox serves, which decides the do-not-call flags."""
    return cast(LushaSandbox, sandbox.state.vendors[PROVIDER])


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> LushaFinder:
    return LushaFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def _callable_phone(directory: Directory, vendor: LushaSandbox, person: SandboxPerson) -> bool:
    return directory.knows(PROVIDER, person, "phone") and not vendor.flags_do_not_call(person)


def test_lusha_sandbox_phone_found(directory: Directory, vendor: LushaSandbox, finder: LushaFinder) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "phone") and p.phone_line_type == "mobile" and not vendor.flags_do_not_call(p)
        ),
    )
    result = finder.find(normalised(person), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    phone = result.phones[0]
    assert phone.number == person.phone_e164
    assert phone.vendor_type == "mobile"
    assert phone.line_type is LineType.MOBILE
    assert phone.verdict is PhoneVerdict.VALID
    assert result.emails == ()


def test_lusha_sandbox_direct_line_keeps_plan_type(
    directory: Directory, vendor: LushaSandbox, finder: LushaFinder
) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "phone")
            and p.phone_line_type == "fixed_line"
            and not vendor.flags_do_not_call(p)
        ),
    )
    result = finder.find(normalised(person), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.phones[0].vendor_type == "direct"
    assert result.phones[0].line_type is LineType.FIXED_LINE


def test_lusha_sandbox_do_not_call_skipped(directory: Directory, vendor: LushaSandbox, finder: LushaFinder) -> None:
    person = first_person(directory, lambda p: directory.knows(PROVIDER, p, "phone") and vendor.flags_do_not_call(p))
    result = finder.find(normalised(person), PHONE)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.phones == ()
    assert "do-not-call" in (result.detail or "")


def test_lusha_sandbox_email_found(directory: Directory, finder: LushaFinder) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "email")
            and current_record(directory, PROVIDER, p)
            and p.email_status == "valid"
        ),
    )
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.emails[0].verdict is EmailVerdict.VALID
    assert result.emails[0].vendor_status in {"A+", "A"}


def test_lusha_sandbox_both_fields_one_request(
    sandbox: RunningSandbox, directory: Directory, vendor: LushaSandbox, finder: LushaFinder
) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "email")
            and directory.knows(PROVIDER, p, "phone")
            and current_record(directory, PROVIDER, p)
            and not vendor.flags_do_not_call(p)
        ),
    )
    result = finder.find(normalised(person), BOTH)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.phones[0].number == person.phone_e164


def test_lusha_sandbox_not_found(directory: Directory, finder: LushaFinder) -> None:
    person = first_person(
        directory,
        lambda p: (
            not directory.knows(PROVIDER, p, "email")
            and not directory.knows(PROVIDER, p, "phone")
            and current_record(directory, PROVIDER, p)
        ),
    )
    result = finder.find(normalised(person), BOTH)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 200
    assert "NOT_FOUND" in (result.detail or "")


def test_lusha_sandbox_unknown_person(finder: LushaFinder) -> None:
    person = NormalisedPerson(first_name="Nobody", last_name="Atall", company_domain="quillon-widgets.de")
    assert finder.find(person, BOTH).outcome is AttemptOutcome.NOT_FOUND


def test_lusha_sandbox_stale_record(directory: Directory, finder: LushaFinder) -> None:
    person = first_person(directory, lambda p: directory.returns_stale(PROVIDER, p) and p.stale_email is not None)
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.stale_email


def test_lusha_sandbox_linkedin_only(directory: Directory, vendor: LushaSandbox, finder: LushaFinder) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "phone") and not vendor.flags_do_not_call(p)
    )
    result = finder.find(normalised(person, name=False), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.phones[0].number == person.phone_e164


def test_lusha_sandbox_rate_budget_reported(directory: Directory, finder: LushaFinder) -> None:
    state = finder.find(normalised(directory.people[0]), BOTH).rate_limit
    assert state is not None
    assert state.limit is not None
    assert state.remaining is not None
    assert state.remaining < state.limit


def test_lusha_sandbox_wrong_key(http: ProviderHttp, directory: Directory) -> None:
    wrong = LushaFinder(http, {"api_key": "not-the-sandbox-key"})
    result = wrong.find(normalised(directory.people[0]), BOTH)
    assert result.outcome is AttemptOutcome.AUTH_ERROR
    assert result.http_status == 401


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (FaultKind.THROTTLED, (AttemptOutcome.THROTTLED, 429)),
        (FaultKind.SERVER_ERROR, (AttemptOutcome.TRANSIENT_ERROR, 500)),
        (FaultKind.BAD_GATEWAY, (AttemptOutcome.TRANSIENT_ERROR, 502)),
        (FaultKind.UNAVAILABLE, (AttemptOutcome.TRANSIENT_ERROR, 503)),
        (FaultKind.MALFORMED, (AttemptOutcome.BAD_RESPONSE, 200)),
        (FaultKind.ERROR_IN_200, (AttemptOutcome.NOT_FOUND, 200)),
        (FaultKind.UNAUTHORIZED, (AttemptOutcome.AUTH_ERROR, 401)),
        (FaultKind.QUOTA_EXHAUSTED, (AttemptOutcome.QUOTA_EXHAUSTED, 402)),
    ],
)
def test_lusha_sandbox_fault(
    sandbox: RunningSandbox,
    directory: Directory,
    finder: LushaFinder,
    fault: FaultKind,
    expected: tuple[AttemptOutcome, int],
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(normalised(directory.people[0]), BOTH)
    assert result.outcome is expected[0]
    assert result.http_status == expected[1]


def test_lusha_sandbox_throttle_retry_after(sandbox: RunningSandbox, directory: Directory, finder: LushaFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=3))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = finder.find(normalised(directory.people[0]), BOTH)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 3.0
    assert result.rate_limit is not None
    assert result.rate_limit.remaining == 0


def test_lusha_sandbox_timeout(sandbox: RunningSandbox, directory: Directory, finder: LushaFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(normalised(directory.people[0]), BOTH)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None
