from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.providers.apollo import ApolloFinder
from cascade.providers.http import ProviderHttp
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import by_name, first_person, has_current_email

PROVIDER = "apollo"
EMAIL = frozenset({RequestedField.EMAIL})
# Nobody in the directory has this name.
ANYONE = NormalisedPerson(first_name="Zzyzx", last_name="Nonesuch", company_domain="quillon-widgets.de")

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> ApolloFinder:
    return ApolloFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_found_valid_mailbox(finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(
        directory, lambda p: has_current_email(directory, PROVIDER, p) and directory.mailbox_status(p.email) == "valid"
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.http_status == 200
    [candidate] = result.emails
    assert candidate.address == person.email
    assert (candidate.verdict, candidate.vendor_status) in {
        (EmailVerdict.VALID, "verified"),
        (EmailVerdict.UNKNOWN, "likely_to_engage"),
    }


def test_found_closed_mailbox(finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: has_current_email(directory, PROVIDER, p) and directory.mailbox_status(p.email) == "invalid",
    )
    [candidate] = finder.find(by_name(person), EMAIL).emails
    assert candidate.address == person.email
    assert (candidate.verdict, candidate.vendor_status) in {
        (EmailVerdict.INVALID, "bounced"),
        (EmailVerdict.UNKNOWN, "update_required"),
    }


def test_found_reports_rate_limit(finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.rate_limit is not None
    assert result.rate_limit.limit == 200
    assert result.rate_limit.remaining is not None
    assert 0 <= result.rate_limit.remaining < 200


def test_found_by_linkedin(finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(NormalisedPerson(linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}"), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email


def test_not_found_person_null(finder: ApolloFinder) -> None:
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 200
    assert result.detail == "apollo matched no person"


def test_not_found_email_unavailable(finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: not directory.knows(PROVIDER, p, "email") and not directory.returns_stale(PROVIDER, p),
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 200
    assert result.detail == "apollo matched the person but has no email"


def test_phone_only_makes_no_call(sandbox: RunningSandbox, finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    calls_before = sum(sandbox.state.calls.values())
    result = finder.find(by_name(person), frozenset({RequestedField.PHONE}))
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert sum(sandbox.state.calls.values()) == calls_before


def test_stale_record_returns_old_address(finder: ApolloFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: p.stale_email is not None and directory.returns_stale(PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == person.stale_email
    assert candidate.address != person.email
    assert candidate.verdict is EmailVerdict.VALID


def test_wrong_key_auth_error(http: ProviderHttp, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    finder = ApolloFinder(http, {"api_key": "not-the-sandbox-key"})
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.AUTH_ERROR
    assert result.http_status == 401


def test_throttled_with_retry_after(sandbox: RunningSandbox, finder: ApolloFinder) -> None:
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
        # Apollo's credit error code inside an HTTP 200.
        (FaultKind.ERROR_IN_200, AttemptOutcome.QUOTA_EXHAUSTED, 200),
        (FaultKind.QUOTA_EXHAUSTED, AttemptOutcome.QUOTA_EXHAUSTED, 422),
        (FaultKind.UNAUTHORIZED, AttemptOutcome.AUTH_ERROR, 401),
    ],
)
def test_injected_fault(
    sandbox: RunningSandbox, finder: ApolloFinder, fault: FaultKind, outcome: AttemptOutcome, status: int
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.emails == ()


def test_timeout(sandbox: RunningSandbox, finder: ApolloFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None
