"""The plan step's company lookup and the stale flag it leads to, with a fake ``companies`` collaborator."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from cascade.domain.models import EmailVerdict, EnrichmentStatus
from cascade.registries.models import (
    Company,
    CompanyCandidate,
    CompanyIdentifiers,
    CompanyMatch,
    CompanyStatus,
    MatchStatus,
    Registry,
    Sourced,
)
from cascade.storage.suppressions import suppression_identities
from cascade.waterfall.companies import (
    BULK_LOOKUP_SECONDS,
    SYNC_LOOKUP_SECONDS,
    LazyCompanyLookup,
    lookup_budget_seconds,
    stale_reason,
)
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.settle import settle
from cascade.waterfall.state import WaterfallState
from cascade.waterfall.step import run_step
from tests.unit.waterfall.fakes import (
    RECEIVED_AT,
    Clock,
    FakeFinder,
    FakeRegistry,
    FakeVerifier,
    MemorySuppressions,
    dependencies,
    email_result,
    start,
)

FETCHED_AT = RECEIVED_AT - timedelta(days=1)


def _company(
    status: CompanyStatus = CompanyStatus.ACTIVE,
    *,
    source: Registry = Registry.COMPANIES_HOUSE,
    dissolved_on: date | None = None,
) -> Company:
    def sourced(value: Any) -> Any:
        return Sourced(value=value, source=source, fetched_at=FETCHED_AT)

    return Company(
        legal_name=sourced("EXAMPLE TRADING LIMITED"),
        identifiers=CompanyIdentifiers(uk_company_number="01234567"),
        status=sourced(status),
        incorporation_date=sourced(date(1990, 5, 1)),
        dissolution_date=sourced(dissolved_on) if dissolved_on else None,
    )


def _candidate(number: str, score: float) -> CompanyCandidate:
    return CompanyCandidate(
        legal_name=f"EXAMPLE {number} LIMITED",
        identifiers=CompanyIdentifiers(uk_company_number=number),
        registry=Registry.COMPANIES_HOUSE,
        score=score,
        reason="name matches after removing the legal form",
    )


@dataclass
class FakeCompanies:
    """A lookup that returns ``match`` or raises ``error``, advancing ``clock`` by ``latency_seconds`` each call."""

    match: CompanyMatch | None = None
    error: Exception | None = None
    clock: Clock | None = None
    latency_seconds: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def for_person(
        self, company_name: str | None, company_domain: str | None, country: str | None, *, budget_seconds: float
    ) -> CompanyMatch:
        self.calls.append(
            {"name": company_name, "domain": company_domain, "country": country, "budget": budget_seconds}
        )
        if self.clock is not None:
            self.clock.advance(self.latency_seconds)
        if self.error is not None:
            raise self.error
        assert self.match is not None
        return self.match


def _deps(companies: FakeCompanies, *, clock: Clock | None = None, **kwargs: Any) -> WaterfallDependencies:
    registry = FakeRegistry([FakeFinder("hunter", [email_result()])], verifiers=[FakeVerifier(EmailVerdict.VALID)])
    return dataclasses.replace(dependencies(registry, clock=clock, **kwargs), companies=companies)


def _plan(companies: FakeCompanies, *, sync: bool = True, clock: Clock | None = None, **changes: Any) -> WaterfallState:
    request_changes: dict[str, Any] = {"waterfall": {"order": ["hunter"]}, **changes}
    return plan_waterfall(start(sync=sync, **request_changes), _deps(companies, clock=clock))


def test_plan_resolved_company_attached() -> None:
    companies = FakeCompanies(
        CompanyMatch(status=MatchStatus.RESOLVED, company=_company(), notes=["Served from the cache."])
    )
    state = _plan(companies, company_name="Example Trading Ltd", country="GB")
    assert state.company is not None
    assert state.company.match is MatchStatus.RESOLVED
    assert state.company.registry == _company()
    assert state.company.candidates == []
    assert state.company.notes == ["Served from the cache."]
    assert state.company.name == "Example Trading Ltd"
    assert state.company.domain == "example.com"
    assert companies.calls == [
        {"name": "Example Trading Ltd", "domain": "example.com", "country": "GB", "budget": SYNC_LOOKUP_SECONDS}
    ]


def test_plan_domain_only_lookup() -> None:
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND))
    state = _plan(companies)
    assert companies.calls[0]["name"] is None
    assert companies.calls[0]["domain"] == "example.com"
    assert companies.calls[0]["country"] is None
    assert state.company is not None
    assert state.company.match is MatchStatus.NOT_FOUND
    assert state.company.registry is None


def test_plan_ambiguous_keeps_candidates() -> None:
    candidates = [_candidate("01234567", 0.8), _candidate("07654321", 0.78)]
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.AMBIGUOUS, candidates=candidates))
    state = _plan(companies, company_name="Example", country="GB")
    assert state.company is not None
    assert state.company.match is MatchStatus.AMBIGUOUS
    assert state.company.registry is None
    assert state.company.candidates == candidates


def test_plan_resolved_drops_candidates() -> None:
    match = CompanyMatch(status=MatchStatus.RESOLVED, company=_company(), candidates=[_candidate("01234567", 0.95)])
    state = _plan(FakeCompanies(match), company_name="Example", country="GB")
    assert state.company is not None
    assert state.company.candidates == []


def test_plan_outage_not_found_with_note() -> None:
    note = "Company facts are unavailable because the companies_house lookup failed: HTTP 503"
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND, notes=[note]))
    state = _plan(companies, company_name="Example", country="GB")
    assert state.company is not None
    assert state.company.match is MatchStatus.NOT_FOUND
    assert state.company.notes == [note]
    assert state.plan.next == "hunter"


def test_plan_lookup_fault_is_soft() -> None:
    companies = FakeCompanies(error=RuntimeError("bug in the lookup"))
    state = _plan(companies, company_name="Example", country="GB")
    assert state.company is not None
    assert state.company.match is MatchStatus.NOT_FOUND
    assert state.company.notes == ["Company facts are unavailable because the lookup failed unexpectedly."]
    assert state.plan.remaining == ["hunter"]
    assert state.done is False


def test_plan_suppressed_skips_lookup() -> None:
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.RESOLVED, company=_company()))
    first = plan_waterfall(start(), dependencies(FakeRegistry([])))
    suppressions = MemorySuppressions(suppression_identities(first.person))
    state = plan_waterfall(start(), _deps(companies, suppressions=suppressions))
    assert state.suppressed is True
    assert companies.calls == []
    assert state.company is not None
    assert state.company.match is None


def test_plan_no_companies_collaborator() -> None:
    state = plan_waterfall(start(), dependencies(FakeRegistry([FakeFinder("hunter")])))
    assert state.company is not None
    assert state.company.match is None
    assert state.company.notes == []


def test_plan_linkedin_only_no_lookup() -> None:
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND))
    state = _plan(
        companies, first_name=None, last_name=None, company_domain=None, linkedin_url="https://linkedin.com/in/ada"
    )
    assert state.company is None
    assert companies.calls == []


def test_plan_bulk_row_gets_longer_budget() -> None:
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND))
    _plan(companies, sync=False)
    assert companies.calls[0]["budget"] == BULK_LOOKUP_SECONDS


def test_plan_budget_leaves_provider_time() -> None:
    # The sync deadline is 25 s after receipt. The plan runs 15.5 s after it, so 9.5 s remain, of which
    # the provider read timeout (8 s) stays free for the first provider.
    clock = Clock(RECEIVED_AT + timedelta(seconds=15.5))
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND))
    _plan(companies, clock=clock)
    assert companies.calls[0]["budget"] == pytest.approx(1.5)


def test_plan_lookup_yields_to_providers() -> None:
    # 8.5 s remain: enough for one provider call, but not for the lookup as well.
    clock = Clock(RECEIVED_AT + timedelta(seconds=16.5))
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.RESOLVED, company=_company()))
    state = _plan(companies, clock=clock)
    assert companies.calls == []
    assert state.company is not None
    assert state.company.match is MatchStatus.NOT_FOUND
    assert state.plan.next == "hunter"


def test_plan_deadline_passed_skips_lookup() -> None:
    clock = Clock(RECEIVED_AT + timedelta(seconds=30))
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.RESOLVED, company=_company()))
    state = _plan(companies, clock=clock)
    assert companies.calls == []
    assert state.company is not None
    assert state.company.match is MatchStatus.NOT_FOUND
    assert "too little time" in state.company.notes[0]


def test_plan_lookup_time_counts_against_deadline() -> None:
    clock = Clock()
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND), clock=clock, latency_seconds=2.5)
    deps = _deps(companies, clock=clock)
    state = plan_waterfall(start(waterfall={"order": ["hunter"]}), deps)
    # The deadline is fixed at receipt, so the lookup's 2.5 s come out of the providers' time.
    assert state.plan.deadline_ms == int((RECEIVED_AT + timedelta(seconds=25)).timestamp() * 1000)
    assert deps.now_ms() == int((RECEIVED_AT + timedelta(seconds=3.5)).timestamp() * 1000)


def test_budget_never_negative() -> None:
    assert lookup_budget_seconds(sync=True, seconds_to_deadline=-4.0, reserved_seconds=8.0) == 0.0
    assert lookup_budget_seconds(sync=True, seconds_to_deadline=5.0, reserved_seconds=8.0) == 0.0
    assert lookup_budget_seconds(sync=True, seconds_to_deadline=60.0, reserved_seconds=8.0) == SYNC_LOOKUP_SECONDS
    assert lookup_budget_seconds(sync=False, seconds_to_deadline=60.0, reserved_seconds=8.0) == BULK_LOOKUP_SECONDS


def _settled(match: CompanyMatch) -> Any:
    deps = _deps(FakeCompanies(match))
    state = plan_waterfall(start(waterfall={"order": ["hunter"]}, company_name="Example", country="GB"), deps)
    while not state.done:
        assert state.plan.next is not None
        state = run_step(state.plan.next, state, deps)
    return settle(state, deps).result


def test_settle_dissolved_company_is_stale() -> None:
    company = _company(CompanyStatus.DISSOLVED, dissolved_on=date(2018, 6, 30))
    result = _settled(CompanyMatch(status=MatchStatus.RESOLVED, company=company))
    assert result.stale is True
    assert result.stale_reason == "Companies House lists the company as dissolved since 2018-06-30."
    # The contact is still returned and billed as usual.
    assert result.status is EnrichmentStatus.MATCHED
    assert result.email is not None
    assert result.billing.billed is True


def test_settle_converted_closed_is_stale() -> None:
    company = _company(CompanyStatus.CONVERTED_CLOSED, source=Registry.BRREG)
    result = _settled(CompanyMatch(status=MatchStatus.RESOLVED, company=company))
    assert result.stale is True
    assert result.stale_reason == "the Brønnøysund Register Centre lists the company as converted closed."


@pytest.mark.parametrize(
    "status", [CompanyStatus.ACTIVE, CompanyStatus.IN_LIQUIDATION, CompanyStatus.INACTIVE, CompanyStatus.UNKNOWN]
)
def test_settle_open_company_not_stale(status: CompanyStatus) -> None:
    result = _settled(CompanyMatch(status=MatchStatus.RESOLVED, company=_company(status)))
    assert result.stale is False
    assert result.stale_reason is None


def test_settle_ambiguous_not_stale() -> None:
    # A dissolved candidate is not the person's company until the match is resolved.
    candidate = _candidate("01234567", 0.8).model_copy(update={"status": CompanyStatus.DISSOLVED})
    result = _settled(CompanyMatch(status=MatchStatus.AMBIGUOUS, candidates=[candidate, _candidate("07654321", 0.79)]))
    assert result.stale is False
    assert result.company is not None
    assert len(result.company.candidates) == 2


def test_stale_reason_without_company() -> None:
    assert stale_reason(None) is None


def test_state_round_trip_with_registry_block() -> None:
    company = _company(CompanyStatus.DISSOLVED, dissolved_on=date(2018, 6, 30))
    companies = FakeCompanies(CompanyMatch(status=MatchStatus.RESOLVED, company=company, notes=["note"]))
    state = _plan(companies, company_name="Example", country="GB")
    document = state.to_json()
    again = WaterfallState.from_json(json.loads(json.dumps(document)))
    assert again.to_json() == document
    assert again.company == state.company


def test_lazy_lookup_builds_once() -> None:
    built: list[FakeCompanies] = []

    def build() -> FakeCompanies:
        built.append(FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND)))
        return built[-1]

    lazy = LazyCompanyLookup(build)
    assert built == []
    lazy.for_person("Example", None, "GB", budget_seconds=3.0)
    lazy.for_person("Other", None, "GB", budget_seconds=3.0)
    assert len(built) == 1
    assert [call["name"] for call in built[0].calls] == ["Example", "Other"]


def test_lazy_lookup_build_failure_retried() -> None:
    attempts: list[int] = []

    def build() -> FakeCompanies:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("secret unreadable")
        return FakeCompanies(CompanyMatch(status=MatchStatus.NOT_FOUND))

    lazy = LazyCompanyLookup(build)
    with pytest.raises(ValueError, match="secret unreadable"):
        lazy.for_person("Example", None, "GB", budget_seconds=3.0)
    assert lazy.for_person("Example", None, "GB", budget_seconds=3.0).status is MatchStatus.NOT_FOUND
    assert len(attempts) == 2
