from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.providers.http import ProviderHttp
from cascade.providers.hunter import HunterFinder
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import by_name, first_person, has_current_email

PROVIDER = "hunter"
EMAIL = frozenset({RequestedField.EMAIL})

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> HunterFinder:
    return HunterFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_found_valid_mailbox(finder: HunterFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: (
            has_current_email(directory, PROVIDER, p)
            and not p.company.catch_all
            and directory.mailbox_status(p.email) == "valid"
        ),
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.http_status == 200
    [candidate] = result.emails
    assert candidate.address == person.email
    # One in eight sandbox addresses carries no verification yet.
    assert (candidate.verdict, candidate.vendor_status) in {(EmailVerdict.VALID, "valid"), (EmailVerdict.UNKNOWN, None)}
    assert 0.0 <= candidate.confidence <= 1.0


def test_found_catch_all_domain(finder: HunterFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p) and p.company.catch_all)
    [candidate] = finder.find(by_name(person), EMAIL).emails
    assert candidate.address == person.email
    assert candidate.verdict is EmailVerdict.CATCH_ALL


def test_found_full_name_and_company_name(finder: HunterFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    query = NormalisedPerson(full_name=person.full_name, company_name=person.company.name)
    result = finder.find(query, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email


def test_found_by_linkedin(finder: HunterFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(NormalisedPerson(linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}"), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email


def test_not_found_person_not_covered(finder: HunterFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: not directory.knows(PROVIDER, p, "email") and not directory.returns_stale(PROVIDER, p),
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 200
    assert result.emails == ()


def test_not_found_unknown_domain(finder: HunterFinder) -> None:
    query = NormalisedPerson(first_name="Ada", last_name="Quill", company_domain="no-such-company-zz.de")
    result = finder.find(query, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 404


def test_stale_record_returns_old_address(finder: HunterFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: p.stale_email is not None and directory.returns_stale(PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == person.stale_email
    assert candidate.address != person.email


def test_test_api_key_returns_dummy(http: ProviderHttp) -> None:
    finder = HunterFinder(http, {"api_key": "test-api-key"})
    result = finder.find(NormalisedPerson(first_name="Ada", last_name="Quill", company_domain="asana.com"), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == "dustin@asana.com"


def test_wrong_key_auth_error(http: ProviderHttp, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    finder = HunterFinder(http, {"api_key": "not-the-sandbox-key"})
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.AUTH_ERROR
    assert result.http_status == 401


def test_throttled_with_retry_after(sandbox: RunningSandbox, finder: HunterFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=4))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = finder.find(NormalisedPerson(first_name="Ada", last_name="Quill", company_domain="tesco.com"), EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.http_status == 429
    assert result.retry_after_seconds == 4.0


@pytest.mark.parametrize(
    ("fault", "outcome", "status"),
    [
        (FaultKind.SERVER_ERROR, AttemptOutcome.TRANSIENT_ERROR, 500),
        (FaultKind.BAD_GATEWAY, AttemptOutcome.TRANSIENT_ERROR, 502),
        (FaultKind.UNAVAILABLE, AttemptOutcome.TRANSIENT_ERROR, 503),
        (FaultKind.MALFORMED, AttemptOutcome.BAD_RESPONSE, 200),
        # Hunter's rate-limit error (code 403) passed on inside a 200.
        (FaultKind.ERROR_IN_200, AttemptOutcome.THROTTLED, 200),
        (FaultKind.QUOTA_EXHAUSTED, AttemptOutcome.QUOTA_EXHAUSTED, 402),
        (FaultKind.UNAUTHORIZED, AttemptOutcome.AUTH_ERROR, 401),
    ],
)
def test_injected_fault(
    sandbox: RunningSandbox, finder: HunterFinder, fault: FaultKind, outcome: AttemptOutcome, status: int
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(NormalisedPerson(first_name="Ada", last_name="Quill", company_domain="tesco.com"), EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.emails == ()


def test_timeout(sandbox: RunningSandbox, finder: HunterFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(NormalisedPerson(first_name="Ada", last_name="Quill", company_domain="tesco.com"), EMAIL)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None


def test_request_after_timeout_succeeds(sandbox: RunningSandbox, finder: HunterFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    finder.find(by_name(person), EMAIL)
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
