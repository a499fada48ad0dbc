"""The Twilio Lookup adapter against the sandbox's Lookup v2 emulation over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cascade.domain.models import AttemptOutcome, PhoneVerdict
from cascade.normalise.phones import LineType
from cascade.providers.http import ProviderHttp
from cascade.providers.twilio import TwilioLookup
from infra.sandbox.directory import Directory, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox

PROVIDER = "twilio"
pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def unlisted_us(directory: Directory) -> str:
    """Return a valid US number in the NANP fictional range (555-0100 to 555-0199) that no person has."""
    for area_code in ("201", "202", "212", "415", "617"):
        for line in range(100, 200):
            number = f"+1{area_code}5550{line}"
            if directory.match_phone(number) is None:
                return number
    raise AssertionError("every fictional US number tried belongs to a sandbox person")


@pytest.fixture(scope="module")
def lookup(http: ProviderHttp) -> TwilioLookup:
    return TwilioLookup(http, SANDBOX_CREDENTIALS[PROVIDER])


def _phone_of(directory: Directory, condition: Callable[[SandboxPerson], bool]) -> str:
    person = next(person for person in directory.people if person.phone_e164 is not None and condition(person))
    assert person.phone_e164 is not None
    return person.phone_e164


@pytest.mark.parametrize(
    ("directory_type", "expected"),
    [
        ("mobile", LineType.MOBILE),
        ("fixed_line", LineType.FIXED_LINE),
        ("toll_free", LineType.TOLL_FREE),
        ("voip", LineType.VOIP),
    ],
)
def test_twilio_sandbox_directory_line_type(
    directory: Directory, lookup: TwilioLookup, directory_type: str, expected: LineType
) -> None:
    number = _phone_of(directory, lambda p: p.phone_line_type == directory_type)
    result = lookup.lookup(number)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.e164 == number
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is expected
    assert result.http_status == 200


def test_twilio_sandbox_shared_plan_decided(directory: Directory, lookup: TwilioLookup) -> None:
    number = _phone_of(directory, lambda p: p.country == "US" and p.phone_line_type == "fixed_line_or_mobile")
    first = lookup.lookup(number)
    second = lookup.lookup(number)
    assert first.line_type in {LineType.MOBILE, LineType.FIXED_LINE}
    assert second.line_type is first.line_type
    assert first.vendor_type in {"mobile", "landline"}


def test_twilio_sandbox_carrier_for_mobile(directory: Directory, lookup: TwilioLookup) -> None:
    result = lookup.lookup(_phone_of(directory, lambda p: p.phone_line_type == "mobile"))
    assert result.carrier is not None


def test_twilio_sandbox_unlisted_number(lookup: TwilioLookup, unlisted_us: str) -> None:
    result = lookup.lookup(unlisted_us)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type in {LineType.MOBILE, LineType.FIXED_LINE}


def test_twilio_sandbox_unlisted_plan_type(lookup: TwilioLookup) -> None:
    result = lookup.lookup("+18005550199")
    assert result.line_type is LineType.TOLL_FREE
    assert result.carrier is None


@pytest.mark.parametrize(("number", "reason"), [("+4412", "TOO_SHORT"), ("+999123456", "INVALID_COUNTRY_CODE")])
def test_twilio_sandbox_invalid_number(lookup: TwilioLookup, number: str, reason: str) -> None:
    result = lookup.lookup(number)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is PhoneVerdict.INVALID
    assert result.line_type is LineType.UNKNOWN
    assert reason in (result.detail or "")


def test_twilio_sandbox_unparseable_number(lookup: TwilioLookup) -> None:
    result = lookup.lookup("not a number")
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.verdict is PhoneVerdict.INVALID
    assert result.http_status == 404


def test_twilio_sandbox_wrong_credentials(http: ProviderHttp, unlisted_us: str) -> None:
    wrong = TwilioLookup(http, {"account_sid": SANDBOX_CREDENTIALS[PROVIDER]["account_sid"], "auth_token": "wrong"})
    result = wrong.lookup(unlisted_us)
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
        (FaultKind.UNAUTHORIZED, (AttemptOutcome.AUTH_ERROR, 401)),
        (FaultKind.QUOTA_EXHAUSTED, (AttemptOutcome.QUOTA_EXHAUSTED, 401)),
    ],
)
def test_twilio_sandbox_fault(
    sandbox: RunningSandbox,
    lookup: TwilioLookup,
    fault: FaultKind,
    expected: tuple[AttemptOutcome, int],
    unlisted_us: str,
) -> None:
    sandbox.state.faults.force(PROVIDER, fault)
    result = lookup.lookup(unlisted_us)
    assert result.outcome is expected[0]
    assert result.http_status == expected[1]


def test_twilio_sandbox_line_type_error_in_200(sandbox: RunningSandbox, lookup: TwilioLookup, unlisted_us: str) -> None:
    sandbox.state.faults.force(PROVIDER, FaultKind.ERROR_IN_200)
    result = lookup.lookup(unlisted_us)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is LineType.UNKNOWN
    assert "60600" in (result.detail or "")


def test_twilio_sandbox_throttle_retry_after(sandbox: RunningSandbox, lookup: TwilioLookup, unlisted_us: str) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(retry_after_seconds=3))
    sandbox.state.faults.force(PROVIDER, FaultKind.THROTTLED)
    result = lookup.lookup(unlisted_us)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 3.0


def test_twilio_sandbox_timeout(sandbox: RunningSandbox, lookup: TwilioLookup, unlisted_us: str) -> None:
    sandbox.state.faults.configure(PROVIDER, FaultPlan(hold_seconds=3.0))
    sandbox.state.faults.force(PROVIDER, FaultKind.TIMEOUT)
    result = lookup.lookup(unlisted_us)
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.http_status is None
