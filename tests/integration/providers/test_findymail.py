"""The Findymail adapter against the sandbox's Findymail emulation over loopback HTTP."""

from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, PhoneVerdict, RequestedField
from cascade.providers.findymail import FindymailFinder
from cascade.providers.http import ProviderHttp
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import current_record, first_person, normalised

PROVIDER = "findymail"
EMAIL = frozenset({RequestedField.EMAIL})
PHONE = frozenset({RequestedField.PHONE})

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> FindymailFinder:
    return FindymailFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_findymail_sandbox_email_by_linkedin(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.emails[0].verdict is EmailVerdict.VALID
    assert result.emails[0].vendor_status == "verified"


def test_findymail_sandbox_email_by_name(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    result = finder.find(normalised(person, linkedin=False), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email


def test_findymail_sandbox_email_by_company_name(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(
        directory, lambda p: directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    by_company = NormalisedPerson(
        first_name=person.first_name,
        last_name=person.last_name,
        full_name=person.full_name,
        company_name=person.company.name,
        country=person.country,
    )
    result = finder.find(by_company, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email


def test_findymail_sandbox_not_found(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(
        directory, lambda p: not directory.knows(PROVIDER, p, "email") and current_record(directory, PROVIDER, p)
    )
    result = finder.find(normalised(person), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 404


def test_findymail_sandbox_unknown_person(finder: FindymailFinder) -> None:
    person = NormalisedPerson(full_name="Nobody Atall", company_domain="quillon-widgets.de")
    assert finder.find(person, EMAIL).outcome is AttemptOutcome.NOT_FOUND


def test_findymail_sandbox_stale_record(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(directory, lambda p: directory.returns_stale(PROVIDER, p) and p.stale_email is not None)
    result = finder.find(normalised(person, linkedin=False), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.stale_email


def test_findymail_sandbox_previous_company_not_found(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(
        directory, lambda p: p.previous_company is not None and current_record(directory, PROVIDER, p)
    )
    assert person.previous_company is not None
    at_old_job = NormalisedPerson(
        first_name=person.first_name,
        last_name=person.last_name,
        full_name=person.full_name,
        company_domain=person.previous_company.domain,
    )
    assert finder.find(at_old_job, EMAIL).outcome is AttemptOutcome.NOT_FOUND


def test_findymail_sandbox_phone_found(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(directory, lambda p: directory.knows(PROVIDER, p, "phone"))
    result = finder.find(normalised(person, name=False), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    phone = result.phones[0]
    assert phone.number == person.phone_e164
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.line_type.value == person.phone_line_type


def test_findymail_sandbox_phone_not_found(directory: Directory, finder: FindymailFinder) -> None:
    person = first_person(directory, lambda p: not directory.knows(PROVIDER, p, "phone"))
    result = finder.find(normalised(person), PHONE)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 404


def test_findymail_sandbox_wrong_key(http: ProviderHttp, directory: Directory) -> None:
    wrong = FindymailFinder(http, {"api_key": "not-the-sandbox-key"})
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
        (FaultKind.ERROR_IN_200, (AttemptOutcome.QUOTA_EXHAUSTED, 200)),
        (FaultKind.UNAUTHORIZED, (AttemptOutcome.AUTH_ERROR, 401)),
        (FaultKind.QUOTA_EXHAUSTED, (AttemptOutcome.QUOTA_EXHAUSTED, 402)),
    ],
)
def test_findymail_sandbox_fault(
    sandbox: RunningSandbox,
    directory: Directory,
    finder: FindymailFinder,
    fault: FaultKind,
    expected: tuple[AttemptOutcome, int],
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(normalised(directory.people[0]), EMAIL)
    assert result.outcome is expected[0]
    assert result.http_status == expected[1]


def test_findymail_sandbox_throttle_retry_after(
    sandbox: RunningSandbox, directory: Directory, finder: FindymailFinder
) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=3))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = finder.find(normalised(directory.people[0]), EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 3.0


def test_findymail_sandbox_timeout(sandbox: RunningSandbox, directory: Directory, finder: FindymailFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(normalised(directory.people[0]), EMAIL)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None
