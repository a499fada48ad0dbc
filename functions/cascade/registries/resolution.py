"""Find the company a query means: by registry identifier, or by name (or domain) and country.

Identifiers go straight to their registry, and the result is cross-linked. A UK company number
is looked up in GLEIF by ``registeredAs``. An LEI whose record names a Companies House number
(registration authority RA000585) or a Norwegian number is looked up in that register too. The
national register's facts come first, and GLEIF fills the gaps and adds the parents.

A name is searched in the registries of its country. GB searches Companies House and GLEIF, NO
searches Brønnøysund, US searches the SEC ticker list, and any other or no country searches GLEIF.
Names are compared by the legal-form-aware ``match_key`` of ``parse_company_name``, so "Tesco
PLC", "TESCO P.L.C." and "Tesco public limited company" are the same name. Scores:

- 1.0: equal match keys and equivalent legal forms; 0.95 when one side has no legal form;
  0.8 when the legal forms differ.
- Otherwise 0.8 times the mean of rapidfuzz's ``token_set_ratio`` and ``token_sort_ratio``.
- A name derived from a domain scores 0.95 times as much, and a dissolved company 0.9 times.

The best candidate is resolved when it scores at least 0.75 and leads the next different
company by at least 0.15. Otherwise candidates scoring at least 0.5 are returned as ambiguous.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from cascade.normalise.companies import legal_forms_equivalent, parse_company_name
from cascade.normalise.domains import normalise_company_domain
from cascade.normalise.notes import has_rejection
from cascade.registries.brreg import Brreg
from cascade.registries.companies_house import CompaniesHouse, parent_links
from cascade.registries.errors import RegistryError, RegistryNotFoundError, RegistryUnavailableError
from cascade.registries.gleif import Gleif
from cascade.registries.models import (
    Company,
    CompanyCandidate,
    CompanyIdentifiers,
    CompanyMatch,
    CompanyQuery,
    CompanyStatus,
    MatchStatus,
    Registry,
    Sourced,
)
from cascade.registries.sec import SecEdgar, TickerIndex

EXACT_SCORE = 1.0
EXACT_FORM_MISSING_SCORE = 0.95
EXACT_FORM_DIFFERS_SCORE = 0.8
FUZZY_WEIGHT = 0.8
DOMAIN_FACTOR = 0.95
DISSOLVED_FACTOR = 0.9
RESOLVE_MIN_SCORE = 0.75
RESOLVE_MARGIN = 0.15
CANDIDATE_MIN_SCORE = 0.5
MAX_CANDIDATES = 10
_SEARCH_SIZE = 20
# A trailing EDGAR state or filer tag such as "/DE/", "/ FA" or a bare "/", which is no part of the name.
_EDGAR_SUFFIX = re.compile(r"\s*/[A-Z0-9 ]*/?\s*$", re.IGNORECASE)
_CLOSED = frozenset({CompanyStatus.DISSOLVED, CompanyStatus.CONVERTED_CLOSED})
# Country-code top-level domains that name a country whose register Cascade searches.
_COUNTRY_TLDS = {"uk": "GB", "no": "NO", "us": "US"}


class Deadline:
    """A time budget in seconds on a monotonic clock, checked before each registry request."""

    def __init__(self, seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._ends = monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._ends - self._monotonic())

    def check(self, registry: Registry) -> float:
        """Return the seconds left, or raise ``RegistryUnavailableError`` when none are."""
        left = self.remaining()
        if left <= 0:
            raise RegistryUnavailableError(
                registry.value, f"the time budget ran out before the {registry.value} request; send it again later"
            )
        return left


@dataclass(frozen=True, slots=True)
class Registries:
    """The configured registry adapters; a registry without configuration is ``None`` and skipped."""

    sec: SecEdgar | None = None
    companies_house: CompaniesHouse | None = None
    gleif: Gleif | None = None
    brreg: Brreg | None = None
    skipped_notes: tuple[str, ...] = ()

    def close(self) -> None:
        for adapter in (self.sec, self.companies_house, self.gleif, self.brreg):
            if adapter is not None:
                adapter.close()


@dataclass(slots=True)
class Trace:
    """Notes for the caller and the registry errors met while resolving one query."""

    notes: list[str] = field(default_factory=list)
    failures: list[RegistryError] = field(default_factory=list)

    def failed(self, error: RegistryError, step: str) -> None:
        self.failures.append(error)
        self.notes.append(f"The {error.registry} {step} failed: {error}")


@dataclass(frozen=True, slots=True)
class NameKey:
    match_key: str
    legal_form: str | None


def name_key(name: str) -> NameKey:
    """Return the legal-form-aware comparison key of a company name, without EDGAR's trailing tags."""
    parsed = parse_company_name(_EDGAR_SUFFIX.sub("", name) or name)
    return NameKey(match_key=parsed.match_key, legal_form=parsed.legal_form)


def score_names(query: NameKey, candidate: NameKey) -> tuple[float, str]:
    """Score how well ``candidate`` matches ``query`` from 0 to 1, with the reason."""
    if not query.match_key or not candidate.match_key:
        return 0.0, "no name to compare"
    if query.match_key == candidate.match_key:
        if legal_forms_equivalent(query.legal_form, candidate.legal_form):
            return EXACT_SCORE, "same name and legal form"
        if query.legal_form is None or candidate.legal_form is None:
            return EXACT_FORM_MISSING_SCORE, "same name, legal form given on one side only"
        return EXACT_FORM_DIFFERS_SCORE, f"same name but legal form {candidate.legal_form} differs"
    similarity = (
        fuzz.token_set_ratio(query.match_key, candidate.match_key)
        + fuzz.token_sort_ratio(query.match_key, candidate.match_key)
    ) / 200
    return round(FUZZY_WEIGHT * similarity, 4), f"similar name ({similarity:.2f})"


def domain_name(domain: str) -> tuple[str, str | None] | None:
    """Derive a company name and a country from a domain: "farrowby-logistics.co.uk" gives ("farrowby logistics", "GB").

    The name is the registrable domain's first label with hyphens as spaces. The country comes
    from a country-code suffix of a register Cascade searches, and is ``None`` otherwise.
    """
    normalised = normalise_company_domain(domain)
    if has_rejection(normalised.notes) or normalised.ascii is None:
        return None
    label, _, suffix = normalised.ascii.partition(".")
    if label.startswith("xn--"):
        label = normalised.display.partition(".")[0] if normalised.display else label
    country = _COUNTRY_TLDS.get(suffix.rsplit(".", 1)[-1])
    return label.replace("-", " "), country


@dataclass(slots=True)
class _Scored:
    candidate: CompanyCandidate
    company: Company | None = None
    identities: set[str] = field(default_factory=set)


def _identities(identifiers: CompanyIdentifiers) -> set[str]:
    return {f"{name}:{value}" for name, value in identifiers.model_dump().items() if value}


def merge_companies(primary: Company, secondary: Company) -> Company:
    """Return ``primary`` with its missing facts taken from ``secondary``, identifiers and parents combined."""
    update: dict[str, object] = {"identifiers": primary.identifiers.merged(secondary.identifiers)}
    for name in Company.model_fields:
        if name in {"identifiers", "legal_name", "status", "notes", "parents"}:
            continue
        if getattr(primary, name) is None and getattr(secondary, name) is not None:
            update[name] = getattr(secondary, name)
    if primary.status.value is CompanyStatus.UNKNOWN and secondary.status.value is not CompanyStatus.UNKNOWN:
        update["status"] = secondary.status
    # GLEIF's parents (consolidation relationships and reporting exceptions) win over the national register's.
    if secondary.parents is not None and (primary.parents is None or secondary.parents.source is Registry.GLEIF):
        update["parents"] = secondary.parents
    update["notes"] = [*primary.notes, *(note for note in secondary.notes if note not in primary.notes)]
    return primary.model_copy(update=update)


@functools.lru_cache(maxsize=2)
def _ticker_titles(index: TickerIndex) -> tuple[list[str], list[tuple[str, str]]]:
    """Return simplified titles for a first fuzzy pass over the ticker list, and (CIK, title) per entry."""
    entries = index.companies()
    simple = [re.sub(r"[^a-z0-9]+", " ", _EDGAR_SUFFIX.sub("", entry.title).lower()).strip() for entry in entries]
    return simple, [(entry.cik, entry.title) for entry in entries]


class CompanyResolver:
    """Resolve queries against the configured registries. Registry errors propagate to the caller."""

    def __init__(self, registries: Registries) -> None:
        self.registries = registries

    def resolve(self, query: CompanyQuery, deadline: Deadline, trace: Trace | None = None) -> CompanyMatch:
        """Return the resolved company, the ambiguous candidates, or not_found, with notes.

        ``trace`` collects the registry errors that were noted rather than raised.
        """
        trace = trace if trace is not None else Trace()
        trace.notes.extend(self.registries.skipped_notes)
        notes = trace.notes
        identifiers = query.identifiers
        if identifiers is not None and not identifiers.is_empty():
            company = self.company_for_identifiers(identifiers, deadline, trace)
            if company is None:
                return CompanyMatch(status=MatchStatus.NOT_FOUND, notes=notes)
            return CompanyMatch(status=MatchStatus.RESOLVED, company=company, notes=notes)

        name, country, from_domain = query.name, query.country, False
        if not name and query.domain:
            derived = domain_name(query.domain)
            if derived is None:
                notes.append(f"The domain {query.domain!r} is not a company domain, so no name could be derived.")
                return CompanyMatch(status=MatchStatus.NOT_FOUND, notes=notes)
            # NOTE: a domain is weak evidence. Its first label is searched as a name, so a company
            # whose domain differs from its registered name ("abc.xyz" for Alphabet) is not found.
            name, from_domain = derived[0], True
            country = country or derived[1]
            notes.append(f"Searched the name {name!r} derived from the domain; a domain is weak evidence.")
        if not name:
            return CompanyMatch(status=MatchStatus.NOT_FOUND, notes=notes)
        scored = self.candidates(name, country, deadline, trace, from_domain=from_domain)
        return self._decide(scored, deadline, trace)

    def _decide(self, scored: list[_Scored], deadline: Deadline, trace: Trace) -> CompanyMatch:
        notes = trace.notes
        ranked = sorted(scored, key=lambda item: item.candidate.score, reverse=True)
        kept = [item for item in ranked if item.candidate.score >= CANDIDATE_MIN_SCORE][:MAX_CANDIDATES]
        if not kept:
            return CompanyMatch(status=MatchStatus.NOT_FOUND, notes=notes)
        best = kept[0]
        runner_up = kept[1].candidate.score if len(kept) > 1 else 0.0
        if best.candidate.score >= RESOLVE_MIN_SCORE and best.candidate.score - runner_up >= RESOLVE_MARGIN:
            try:
                company = self.company_for_identifiers(best.candidate.identifiers, deadline, trace) or best.company
            except RegistryError:
                # The search result itself is a usable record when the follow-up lookups failed.
                if best.company is None:
                    raise
                company = best.company
            if company is not None:
                return CompanyMatch(
                    status=MatchStatus.RESOLVED, company=company, candidates=[best.candidate], notes=notes
                )
        return CompanyMatch(status=MatchStatus.AMBIGUOUS, candidates=[item.candidate for item in kept], notes=notes)

    def candidates(
        self, name: str, country: str | None, deadline: Deadline, trace: Trace, *, from_domain: bool = False
    ) -> list[_Scored]:
        """Search the registries of ``country`` for ``name`` and return the scored candidates, one per company.

        The registries are searched for the base name without its legal form ("TESCO" for "TESCO
        P.L.C."), because their searches match words and a legal form has many spellings. The
        legal form still counts in the score.
        """
        query = name_key(name)
        name = parse_company_name(name).base or name
        factor = DOMAIN_FACTOR if from_domain else 1.0
        found: list[_Scored] = []
        searches: list[Callable[[], Iterable[_Scored]]] = []
        if country == "GB":
            searches += [
                lambda: self._companies_house(name, query, deadline),
                lambda: self._gleif(name, query, "GB", deadline),
            ]
        elif country == "NO":
            searches.append(lambda: self._brreg(name, query, deadline))
        elif country == "US":
            searches.append(lambda: self._sec(query, deadline))
        else:
            searches.append(lambda: self._gleif(name, query, country, deadline))
        failures: list[RegistryError] = []
        for search in searches:
            try:
                found.extend(search())
            except RegistryError as error:
                failures.append(error)
                trace.failed(error, "search")
        if failures and len(failures) == len(searches):
            raise failures[0]
        for item in found:
            score = item.candidate.score * factor
            if item.candidate.status in _CLOSED:
                score *= DISSOLVED_FACTOR
            item.candidate = item.candidate.model_copy(update={"score": round(score, 4)})
        return _combine_same_companies(found)

    def _companies_house(self, name: str, query: NameKey, deadline: Deadline) -> list[_Scored]:
        adapter = self.registries.companies_house
        if adapter is None:
            return []
        page = adapter.search(name, items_per_page=_SEARCH_SIZE, max_wait=deadline.check(adapter.registry))
        results: list[_Scored] = []
        for hit in page.hits:
            score, reason = score_names(query, name_key(hit.legal_name))
            identifiers = CompanyIdentifiers(uk_company_number=hit.company_number)
            candidate = CompanyCandidate(
                legal_name=hit.legal_name,
                identifiers=identifiers,
                registry=Registry.COMPANIES_HOUSE,
                score=score,
                reason=reason,
                status=hit.status,
            )
            results.append(_Scored(candidate, identities=_identities(identifiers)))
        return results

    def _gleif(self, name: str, query: NameKey, country: str | None, deadline: Deadline) -> list[_Scored]:
        adapter = self.registries.gleif
        if adapter is None:
            return []
        page = adapter.search_name(
            name, page_size=_SEARCH_SIZE, jurisdiction=country, max_wait=deadline.check(adapter.registry)
        )
        return [self._scored_company(company, query, Registry.GLEIF) for company in page.companies]

    def _brreg(self, name: str, query: NameKey, deadline: Deadline) -> list[_Scored]:
        adapter = self.registries.brreg
        if adapter is None:
            return []
        page = adapter.search(name, size=_SEARCH_SIZE, max_wait=deadline.check(adapter.registry))
        return [self._scored_company(company, query, Registry.BRREG) for company in page.companies]

    def _sec(self, query: NameKey, deadline: Deadline) -> list[_Scored]:
        adapter = self.registries.sec
        if adapter is None:
            return []
        index = adapter.ticker_index(max_wait=deadline.check(adapter.registry))
        simple, entries = _ticker_titles(index)
        wanted = re.sub(r"[^a-z0-9]+", " ", query.match_key).strip()
        # A quick pass over every title keeps the legal-form-aware parse for the closest 25.
        closest = process.extract(wanted, simple, scorer=fuzz.token_set_ratio, limit=25, score_cutoff=50)
        results: list[_Scored] = []
        for _, _, position in closest:
            cik, title = entries[position]
            score, reason = score_names(query, name_key(title))
            identifiers = CompanyIdentifiers(sec_cik=cik)
            candidate = CompanyCandidate(
                legal_name=title, identifiers=identifiers, registry=Registry.SEC_EDGAR, score=score, reason=reason
            )
            results.append(_Scored(candidate, identities=_identities(identifiers)))
        return results

    @staticmethod
    def _scored_company(company: Company, query: NameKey, registry: Registry) -> _Scored:
        score, reason = score_names(query, name_key(company.legal_name.value))
        candidate = CompanyCandidate(
            legal_name=company.legal_name.value,
            identifiers=company.identifiers,
            registry=registry,
            score=score,
            reason=reason,
            status=company.status.value,
        )
        return _Scored(candidate, company=company, identities=_identities(company.identifiers))

    def company_for_identifiers(
        self, identifiers: CompanyIdentifiers, deadline: Deadline, trace: Trace
    ) -> Company | None:
        """Fetch the company from each registry an identifier names, cross-link it, and merge the facts.

        Returns ``None`` when every registry asked has no such record. Raises the first registry
        error when no registry returned the company and at least one failed.
        """
        parts: list[Company] = []
        failures: list[RegistryError] = []
        lei = identifiers.lei

        def attempt(fetch: Callable[[], Company | None]) -> Company | None:
            try:
                found = fetch()
            except RegistryNotFoundError as error:
                trace.notes.append(f"{error.registry} has no record for the identifier.")
                return None
            except RegistryError as error:
                failures.append(error)
                trace.failed(error, "lookup")
                return None
            if found is not None:
                parts.append(found)
            return found

        if identifiers.uk_company_number:
            number = identifiers.uk_company_number
            attempt(lambda: self._uk_profile(number, deadline, include_control=lei is None))
            if lei is None:
                match = attempt(lambda: self._lei_by_registration(number, "GB", deadline))
                lei = match.identifiers.lei if match is not None else None
                parts[:] = [part for part in parts if part is not match]
        if identifiers.no_org_number:
            org_number = identifiers.no_org_number
            attempt(lambda: self._brreg_entity(org_number, deadline))
            if lei is None:
                match = attempt(lambda: self._lei_by_registration(org_number, "NO", deadline))
                lei = match.identifiers.lei if match is not None else None
                parts[:] = [part for part in parts if part is not match]
        if lei:
            gleif_company = attempt(lambda: self._gleif_company(lei, deadline))
            linked = gleif_company.identifiers if gleif_company is not None else CompanyIdentifiers()
            if linked.uk_company_number and not identifiers.uk_company_number:
                uk_number = linked.uk_company_number
                attempt(lambda: self._uk_profile(uk_number, deadline, include_control=False))
            if linked.no_org_number and not identifiers.no_org_number:
                no_number = linked.no_org_number
                attempt(lambda: self._brreg_entity(no_number, deadline))
        if identifiers.sec_cik:
            cik = identifiers.sec_cik
            attempt(lambda: self._sec_company(cik, deadline))

        if not parts:
            if failures:
                raise failures[0]
            return None
        return _merge_in_order(parts)

    def _uk_profile(self, number: str, deadline: Deadline, *, include_control: bool) -> Company | None:
        """Fetch the profile and, for a company not closed, its officer counts and optionally its corporate PSCs."""
        adapter = self.registries.companies_house
        if adapter is None:
            return None
        company = adapter.profile(number, max_wait=deadline.check(adapter.registry))
        if company.status.value in _CLOSED:
            return company
        fetched_at = company.legal_name.fetched_at
        update: dict[str, object] = {}
        try:
            officers = adapter.officers(number, max_wait=deadline.check(adapter.registry))
            update["officers"] = Sourced(value=officers, source=Registry.COMPANIES_HOUSE, fetched_at=fetched_at)
        except RegistryNotFoundError:
            pass
        if include_control:
            # Corporate persons with significant control stand in for GLEIF parents when the company has no LEI.
            try:
                entities = adapter.persons_with_significant_control(number, max_wait=deadline.check(adapter.registry))
            except RegistryNotFoundError:
                entities = []
            if entities:
                source = Registry.COMPANIES_HOUSE
                update["controlling_entities"] = Sourced(value=entities, source=source, fetched_at=fetched_at)
                links = parent_links(entities)
                if links:
                    update["parents"] = Sourced(value=links, source=source, fetched_at=fetched_at)
        return company.model_copy(update=update) if update else company

    def _lei_by_registration(self, number: str, country: str, deadline: Deadline) -> Company | None:
        adapter = self.registries.gleif
        if adapter is None:
            return None
        matches = adapter.by_registration(number, jurisdiction=country, max_wait=deadline.check(adapter.registry))
        return matches[0] if len(matches) == 1 else None

    def _gleif_company(self, lei: str, deadline: Deadline) -> Company | None:
        adapter = self.registries.gleif
        if adapter is None:
            return None
        return adapter.company(lei, max_wait=deadline.check(adapter.registry))

    def _brreg_entity(self, number: str, deadline: Deadline) -> Company | None:
        adapter = self.registries.brreg
        if adapter is None:
            return None
        return adapter.entity(number, max_wait=deadline.check(adapter.registry))

    def _sec_company(self, cik: str, deadline: Deadline) -> Company | None:
        adapter = self.registries.sec
        if adapter is None:
            return None
        return adapter.company(cik, max_wait=deadline.check(adapter.registry))


# National registers first, because they are the primary source of their companies' facts.
_SOURCE_ORDER = (Registry.COMPANIES_HOUSE, Registry.BRREG, Registry.SEC_EDGAR, Registry.GLEIF)


def _merge_in_order(parts: list[Company]) -> Company:
    ordered = sorted(parts, key=lambda company: _SOURCE_ORDER.index(company.legal_name.source))
    merged = ordered[0]
    for company in ordered[1:]:
        merged = merge_companies(merged, company)
    return merged


def _combine_same_companies(found: list[_Scored]) -> list[_Scored]:
    """Merge candidates that share an identifier (one company found in two registries), keeping the best score."""
    combined: list[_Scored] = []
    for item in found:
        same = next((kept for kept in combined if kept.identities & item.identities), None)
        if same is None:
            combined.append(item)
            continue
        identifiers = same.candidate.identifiers.merged(item.candidate.identifiers)
        best = same.candidate if same.candidate.score >= item.candidate.score else item.candidate
        same.candidate = best.model_copy(update={"identifiers": identifiers})
        same.identities |= item.identities
        same.company = same.company or item.company
    return combined
