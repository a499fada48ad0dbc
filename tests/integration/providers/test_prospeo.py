from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, PhoneVerdict, RequestedField
from cascade.normalise.phones import normalise_phone
from cascade.providers.http import ProviderHttp
from cascade.providers.prospeo import ProspeoFinder
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import by_name, first_person, has_current_email

PROVIDER = "prospeo"
EMAIL = frozenset({RequestedField.EMAIL})
PHONE = frozenset({RequestedField.PHONE})
# Nobody in the directory has this name.
ANYONE = NormalisedPerson(first_name="Zzyzx", last_name="Nonesuch", company_domain="quillon-widgets.de")

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def finder(http: ProviderHttp) -> ProspeoFinder:
    return ProspeoFinder(http, SANDBOX_CREDENTIALS[PROVIDER])


def test_found_verified_email(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(
        directory, lambda p: has_current_email(directory, PROVIDER, p) and directory.mailbox_status(p.email) == "valid"
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.http_status == 200
    [candidate] = result.emails
    assert candidate.address == person.email
    assert candidate.verdict is EmailVerdict.VALID
    assert candidate.vendor_status == "VERIFIED"


def test_found_unverified_on_catch_all(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p) and p.company.catch_all)
    [candidate] = finder.find(by_name(person), EMAIL).emails
    assert candidate.address == person.email
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.vendor_status == "UNVERIFIED"


def test_found_reports_rate_limit(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.rate_limit is not None
    assert result.rate_limit.remaining is not None
    assert 0 <= result.rate_limit.remaining < 300


def test_found_mobile(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: (
            directory.knows(PROVIDER, p, "phone")
            and p.phone_line_type in {"mobile", "fixed_line_or_mobile"}
            and not directory.returns_stale(PROVIDER, p)
        ),
    )
    result = finder.find(by_name(person), PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails == ()
    [phone] = result.phones
    assert normalise_phone(phone.number).e164 == person.phone_e164
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.vendor_type == "mobile"


def test_found_by_linkedin(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    result = finder.find(NormalisedPerson(linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}"), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email


def test_not_found_no_match(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(
        directory,
        lambda p: (
            not directory.knows(PROVIDER, p, "email")
            and not directory.knows(PROVIDER, p, "phone")
            and not directory.returns_stale(PROVIDER, p)
        ),
    )
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 400
    assert result.detail == "prospeo error NO_MATCH (HTTP 400)"


def test_not_found_unknown_person(finder: ProspeoFinder) -> None:
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_stale_record_returns_old_address(finder: ProspeoFinder, directory: Directory) -> None:
    person = first_person(directory, lambda p: p.stale_email is not None and directory.returns_stale(PROVIDER, p))
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == person.stale_email
    assert candidate.address != person.email


def test_wrong_key_auth_error(http: ProviderHttp, directory: Directory) -> None:
    person = first_person(directory, lambda p: has_current_email(directory, PROVIDER, p))
    finder = ProspeoFinder(http, {"api_key": "not-the-sandbox-key"})
    result = finder.find(by_name(person), EMAIL)
    assert result.outcome is AttemptOutcome.AUTH_ERROR
    assert result.http_status == 401


def test_throttled_with_retry_after(sandbox: RunningSandbox, finder: ProspeoFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=4))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.http_status == 429
    assert result.retry_after_seconds == 4.0


def test_throttled_inside_200_reads_reset_header(sandbox: RunningSandbox, finder: ProspeoFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=6))
    sandbox.state.faults.force(PROVIDER, FaultKind.ERROR_IN_200)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.http_status == 200
    assert result.retry_after_seconds == 6.0


@pytest.mark.parametrize(
    ("fault", "outcome", "status"),
    [
        (FaultKind.SERVER_ERROR, AttemptOutcome.TRANSIENT_ERROR, 500),
        (FaultKind.BAD_GATEWAY, AttemptOutcome.TRANSIENT_ERROR, 502),
        (FaultKind.UNAVAILABLE, AttemptOutcome.TRANSIENT_ERROR, 503),
        (FaultKind.MALFORMED, AttemptOutcome.BAD_RESPONSE, 200),
        (FaultKind.QUOTA_EXHAUSTED, AttemptOutcome.QUOTA_EXHAUSTED, 400),
        (FaultKind.UNAUTHORIZED, AttemptOutcome.AUTH_ERROR, 401),
    ],
)
def test_injected_fault(
    sandbox: RunningSandbox, finder: ProspeoFinder, fault: FaultKind, outcome: AttemptOutcome, status: int
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.emails == ()


def test_timeout(sandbox: RunningSandbox, finder: ProspeoFinder) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = finder.find(ANYONE, EMAIL)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None
