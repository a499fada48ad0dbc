"""The LeadMagic adapter against the sandbox's LeadMagic emulation over loopback HTTP."""

from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, PhoneVerdict, RequestedField
from cascade.normalise.phones import LineType
from cascade.providers.http import ProviderHttp
from cascade.providers.leadmagic import LeadMagicFinder
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import current_record, first_person, normalised

PROVIDER = "leadmagic"
EMAIL = frozenset({RequestedField.EMAIL})
PHONE = frozenset({RequestedField.PHONE})

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> LeadMagicFinder:
    return LeadMagicFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_leadmagic_sandbox_email_found(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p) and not p.company.catch_all
        ),
    )
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.emails[0].verdict is EmailVerdict.VALID
    assert result.http_status == 200
    assert result.latency_ms >= 0


def test_leadmagic_sandbox_catch_all_domain(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p) and p.company.catch_all
        ),
    )
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].verdict is EmailVerdict.CATCH_ALL
    assert result.emails[0].vendor_status in {"catch_all", "valid_catch_all"}


def test_leadmagic_sandbox_not_found(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(
        directory, lambda p: not directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()


def test_leadmagic_sandbox_unknown_person(finder: LeadMagicFinder) -> None:
    person = NormalisedPerson(first_name="Nobody", last_name="Atall", company_domain="quillon-widgets.de")
    assert finder.find(person, EMAIL).outcome is AttemptOutcome.NOT_FOUND


def test_leadmagic_sandbox_stale_record(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(directory, lambda p: directory.returns_stale(PROVIDER, p) and p.stale_email is not None)
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.stale_email
    assert result.emails[0].address != person.email


def test_leadmagic_sandbox_linkedin_email(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    result = finder.find(normalised(person, name=False), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.emails[0].vendor_status is None


def test_leadmagic_sandbox_mobile_found(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "phone") and p.phone_line_type == "fixed_line_or_mobile"
    )
    result = finder.find(normalised(person, name=False), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    phone = result.phones[0]
    assert phone.number == person.phone_e164
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.line_type is LineType.MOBILE


def test_leadmagic_sandbox_mobile_not_found(directory: Directory, finder: LeadMagicFinder) -> None:
    person = first_person(directory, lambda p: not directory.knows(PROVIDER, p, "phone"))
    assert finder.find(normalised(person), PHONE).outcome is AttemptOutcome.NOT_FOUND


def test_leadmagic_sandbox_wrong_key(http: ProviderHttp, directory: Directory) -> None:
    wrong = LeadMagicFinder(http, {"api_key": "not-the-sandbox-key"})
    result = wrong.find(normalised(directory.people[0]), EMAIL)
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
        (FaultKind.ERROR_IN_200, (AttemptOutcome.TRANSIENT_ERROR, 200)),
        (FaultKind.UNAUTHORIZED, (AttemptOutcome.AUTH_ERROR, 401)),
        (FaultKind.QUOTA_EXHAUSTED, (AttemptOutcome.QUOTA_EXHAUSTED, 402)),
    ],
)
def test_leadmagic_sandbox_fault(
    sandbox: RunningSandbox,
    directory: Directory,
    finder: LeadMagicFinder,
    fault: FaultKind,
    expected: tuple[AttemptOutcome, int],
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(normalised(directory.people[0]), EMAIL)
    assert result.outcome is expected[0]
    assert result.http_status == expected[1]


def test_leadmagic_sandbox_throttle_retry_after(
    sandbox: RunningSandbox, directory: Directory, finder: LeadMagicFinder
) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=3))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = finder.find(normalised(directory.people[0]), EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 3.0


def test_leadmagic_sandbox_timeout(sandbox: RunningSandbox, directory: Directory, finder: LeadMagicFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(normalised(directory.people[0]), EMAIL)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None


def test_leadmagic_sandbox_recovers_after_fault(
    sandbox: RunningSandbox, directory: Directory, finder: LeadMagicFinder
) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    sandbox.state.faults.force(PROVIDER, FaultKind.SERVER_ERROR)
    first = finder.find(normalised(person), EMAIL)
    second = finder.find(normalised(person), EMAIL)
    assert first.outcome is AttemptOutcome.TRANSIENT_ERROR
    assert second.outcome is AttemptOutcome.FOUND
