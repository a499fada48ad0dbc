"""The pattern finder with real verifier adapters against the sandbox, over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.domains import is_free_mail_domain
from cascade.normalise.names import parse_person_name
from cascade.providers.neverbounce import NeverBounceVerifier
from cascade.providers.pattern import PatternFinder
from cascade.providers.zerobounce import ZeroBounceVerifier
from infra.sandbox.directory import Directory, SandboxPerson
from infra.sandbox.faults import FaultKind
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox
from tests.integration.providers.support import first_person, sandbox_http

SANDBOX_PROVIDERS = ("zerobounce", "neverbounce")
EMAIL_ONLY = frozenset({RequestedField.EMAIL})

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(scope="module")
def zerobounce(sandbox: RunningSandbox) -> Iterator[ZeroBounceVerifier]:
    with sandbox_http(sandbox, "zerobounce") as http:
        yield ZeroBounceVerifier(http, SANDBOX_CREDENTIALS["zerobounce"])


@pytest.fixture(scope="module")
def neverbounce(sandbox: RunningSandbox) -> Iterator[NeverBounceVerifier]:
    with sandbox_http(sandbox, "neverbounce") as http:
        yield NeverBounceVerifier(http, SANDBOX_CREDENTIALS["neverbounce"])


def _normalised(person: SandboxPerson) -> NormalisedPerson:
    """Build the request person the way the API does, from the directory person's name and company domain."""
    name = parse_person_name(first_name=person.first_name, last_name=person.last_name)
    return NormalisedPerson(
        first_name=name.first or None,
        last_name=name.last or None,
        full_name=name.full or None,
        company_name=person.company.name,
        company_domain=person.company.domain,
        ascii_first=name.ascii_first,
        ascii_middle=name.ascii_middle,
        ascii_last=name.ascii_last,
    )


def _local_part(person: SandboxPerson, pattern: str) -> str:
    name = parse_person_name(first_name=person.first_name, last_name=person.last_name)
    first, last = name.ascii_first, name.ascii_last
    return pattern.format(first=first, last=last, f=first[:1], l=last[:1])


def _on_ordinary_domain(person: SandboxPerson) -> bool:
    company = person.company
    return bool(company.mx_hosts) and not company.catch_all and not is_free_mail_domain(company.domain)


def _valid_with_pattern(directory: Directory, pattern: str) -> SandboxPerson:
    """Return a person with a valid mailbox whose address is exactly ``pattern`` (no numeric suffix)."""
    return first_person(
        directory,
        lambda p: (
            p.email_status == "valid"
            and _on_ordinary_domain(p)
            and p.company.email_pattern == pattern
            and p.email == f"{_local_part(p, pattern)}@{p.company.domain}"
        ),
    )


def test_find_top_pattern(directory: Directory, zerobounce: ZeroBounceVerifier) -> None:
    person = _valid_with_pattern(directory, "{first}.{last}")

    result = PatternFinder([zerobounce]).find(_normalised(person), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert len(result.emails) == 1
    assert result.emails[0].address == person.email
    assert result.emails[0].verdict is EmailVerdict.VALID
    assert result.emails[0].confidence == 0.85
    assert result.emails[0].vendor_status == "valid"
    assert result.latency_ms > 0


def test_find_second_pattern(directory: Directory, zerobounce: ZeroBounceVerifier) -> None:
    person = first_person(
        directory,
        lambda p: (
            p.email_status == "valid"
            and _on_ordinary_domain(p)
            and p.company.email_pattern == "{f}{last}"
            and p.email == f"{_local_part(p, '{f}{last}')}@{p.company.domain}"
            and directory.mailbox_status(f"{_local_part(p, '{first}.{last}')}@{p.company.domain}") == "invalid"
        ),
    )

    result = PatternFinder([zerobounce]).find(_normalised(person), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.emails[0].verdict is EmailVerdict.VALID


def test_find_catch_all_domain(directory: Directory, zerobounce: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.company.catch_all and bool(p.company.mx_hosts))
    top = f"{_local_part(person, '{first}.{last}')}@{person.company.domain}"

    result = PatternFinder([zerobounce]).find(_normalised(person), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert len(result.emails) == 1
    assert result.emails[0].address == top
    assert result.emails[0].verdict is EmailVerdict.CATCH_ALL
    assert result.emails[0].confidence == 0.3


def test_find_closed_mailbox(directory: Directory, zerobounce: ZeroBounceVerifier) -> None:
    person = first_person(directory, lambda p: p.email_status == "invalid" and _on_ordinary_domain(p))

    result = PatternFinder([zerobounce], max_candidates=10).find(_normalised(person), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()


def test_find_surname_only(directory: Directory, zerobounce: ZeroBounceVerifier) -> None:
    person = _valid_with_pattern(directory, "{first}.{last}")
    name = parse_person_name(full_name=f"Dr. {person.last_name}")
    surname_only = NormalisedPerson(
        last_name=name.last, company_domain=person.company.domain, ascii_last=name.ascii_last
    )

    result = PatternFinder([zerobounce]).find(surname_only, EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail is not None
    assert "first name missing" in result.detail


def test_find_falls_back_over_http(
    sandbox: RunningSandbox, directory: Directory, neverbounce: NeverBounceVerifier, zerobounce: ZeroBounceVerifier
) -> None:
    person = _valid_with_pattern(directory, "{first}.{last}")
    sandbox.state.faults.force("neverbounce", FaultKind.THROTTLED)

    result = PatternFinder([neverbounce, zerobounce]).find(_normalised(person), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == person.email
    assert result.detail == "verified by zerobounce"


def test_find_no_verifier_answers(
    sandbox: RunningSandbox, directory: Directory, neverbounce: NeverBounceVerifier, zerobounce: ZeroBounceVerifier
) -> None:
    person = _valid_with_pattern(directory, "{first}.{last}")
    sandbox.state.faults.force("neverbounce", FaultKind.UNAUTHORIZED)
    sandbox.state.faults.force("zerobounce", FaultKind.SERVER_ERROR)

    result = PatternFinder([neverbounce, zerobounce]).find(_normalised(person), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.TRANSIENT_ERROR
    assert result.http_status == 500
    assert result.emails == ()
