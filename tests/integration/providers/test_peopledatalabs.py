from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, PhoneVerdict, RequestedField
from cascade.providers.http import ProviderHttp
from cascade.providers.peopledatalabs import PeopleDataLabsFinder
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import by_name, first_person, has_current_email

PROVIDER = "peopledatalabs"
EMAIL = frozenset({RequestedField.EMAIL})
PHONE = frozenset({RequestedField.PHONE})
# Nobody in the directory has this name.
ANYONE = NormalisedPerson(first_name="Zzyzx", last_name="Nonesuch", company_domain="quillon-widgets.de")

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> PeopleDataLabsFinder:
    return PeopleDataLabsFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_found_work_email(finder: PeopleDataLabsFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.http_status == 200
    [candidate] = result.emails
    assert candidate.address == person.email
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.vendor_status is None
    # The adapter requests likelihood 6 or more, and confidence is likelihood / 10.
    assert 0.6 <= candidate.confidence <= 1.0


def test_found_reports_minute_rate_limit(finder: PeopleDataLabsFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.rate_limit is not None
    assert result.rate_limit.limit == 1000
    assert result.rate_limit.remaining is not None
    assert 0 <= result.rate_limit.remaining < 1000
    assert result.rate_limit.reset_after_seconds is not None
    assert 0.0 <= result.rate_limit.reset_after_seconds <= 60.0


def test_found_phone(finder: PeopleDataLabsFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "phone")
            and p.phone_e164 is not None
            and not directory.returns_stale(PROVIDER, p)
        ),
    )
    result = finder.find(by_name(person), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails == ()
    assert [phone.number for phone in result.phones] == [person.phone_e164]
    assert result.phones[0].verdict is PhoneVerdict.VALID


def test_found_by_linkedin(finder: PeopleDataLabsFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(NormalisedPerson(linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}"), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == person.email
    assert candidate.confidence >= 0.9


def test_not_found_without_requested_field(finder: PeopleDataLabsFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: not directory.knows(PROVIDER, p, "email") and not directory.returns_stale(PROVIDER, p),
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 404
    assert result.detail == "peopledatalabs answered HTTP 404 (not_found)"


def test_not_found_unknown_person(finder: PeopleDataLabsFinder) -> None:
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 404


def test_stale_record_returns_old_address(finder: PeopleDataLabsFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: p.stale_email is not None and directory.returns_stale(PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == person.stale_email
    assert candidate.address != person.email


def test_wrong_key_auth_error(http: ProviderHttp, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    finder = PeopleDataLabsFinder(http, {"api_key": "not-the-sandbox-key"})
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.AUTH_ERROR
    assert result.http_status == 401


def test_throttled_with_retry_after(sandbox: RunningSandbox, finder: PeopleDataLabsFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=4))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.http_status == 429
    assert result.retry_after_seconds == 4.0
    assert result.rate_limit is not None
    assert result.rate_limit.remaining == 0


@pytest.mark.parametrize(
    ("fault", "outcome", "status"),
    [
        (FaultKind.SERVER_ERROR, AttemptOutcome.TRANSIENT_ERROR, 500),
        (FaultKind.BAD_GATEWAY, AttemptOutcome.TRANSIENT_ERROR, 502),
        (FaultKind.UNAVAILABLE, AttemptOutcome.TRANSIENT_ERROR, 503),
        (FaultKind.MALFORMED, AttemptOutcome.BAD_RESPONSE, 200),
        # PDL's payment_required body, with its status 402, behind an HTTP 200.
        (FaultKind.ERROR_IN_200, AttemptOutcome.QUOTA_EXHAUSTED, 200),
        (FaultKind.QUOTA_EXHAUSTED, AttemptOutcome.QUOTA_EXHAUSTED, 402),
        (FaultKind.UNAUTHORIZED, AttemptOutcome.AUTH_ERROR, 401),
    ],
)
def test_injected_fault(
    sandbox: RunningSandbox, finder: PeopleDataLabsFinder, fault: FaultKind, outcome: AttemptOutcome, status: int
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.emails == ()


def test_timeout(sandbox: RunningSandbox, finder: PeopleDataLabsFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None
