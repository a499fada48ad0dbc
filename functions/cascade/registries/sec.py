"""SEC EDGAR: the company ticker list and the submissions (company facts and recent filings) of one CIK.

Endpoints: ``GET /files/company_tickers.json`` on https://www.sec.gov and
``GET /submissions/CIK##########.json`` on https://data.sec.gov. Neither needs a key, but SEC
rejects requests whose User-Agent does not name the caller with a contact email address, so the
adapter raises ValueError at construction without one.

``company_tickers.json`` has one row per ticker, keyed "0".."N", with ``cik_str`` as an unpadded
integer. A CIK with two share classes (Berkshire Hathaway: BRK-B and BRK-A) therefore has two rows.
The list is fetched once per process and kept in memory.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cascade.registries import parsing
from cascade.registries.client import RegistryClient
from cascade.registries.errors import RegistryBadResponseError
from cascade.registries.industry import us_sic_code
from cascade.registries.models import (
    Address,
    Company,
    CompanyIdentifiers,
    CompanyStatus,
    Filing,
    FormerName,
    Jurisdiction,
    Registry,
    Sourced,
    canonical_cik,
    canonical_lei,
)

TICKERS_BASE_URL = "https://www.sec.gov"
DATA_BASE_URL = "https://data.sec.gov"
TICKERS_PATH = "/files/company_tickers.json"

# Periodic and current reports whose latest filing is reported: annual, quarterly and current
# reports of domestic filers, and the annual and current reports of foreign private issuers.
REPORT_FORMS = ("10-K", "10-Q", "8-K", "20-F", "40-F", "6-K", "10-K/A", "20-F/A")

_CONTACT_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_US_STATE_CODE = re.compile(r"^[A-Z]{2}$")
_REGISTRY = Registry.SEC_EDGAR


@dataclass(frozen=True, slots=True)
class TickerEntry:
    cik: str
    ticker: str
    title: str


class TickerIndex:
    """The rows of ``company_tickers.json`` by ticker and by CIK."""

    def __init__(self, entries: Iterable[TickerEntry]) -> None:
        self._by_ticker: dict[str, TickerEntry] = {}
        self._by_cik: dict[str, list[TickerEntry]] = {}
        for entry in entries:
            self._by_ticker.setdefault(entry.ticker, entry)
            self._by_cik.setdefault(entry.cik, []).append(entry)

    def __len__(self) -> int:
        return len(self._by_ticker)

    def ticker(self, symbol: str) -> TickerEntry | None:
        """Return the row of a ticker; "brk.b" and "BRK-B" are the same, because SEC writes share classes with "-"."""
        return self._by_ticker.get(symbol.strip().upper().replace(".", "-"))

    def tickers_for(self, cik: str) -> list[str]:
        """Return the tickers of a CIK in file order (the file lists the most traded share class first)."""
        return [entry.ticker for entry in self._by_cik.get(canonical_cik(cik), [])]

    def companies(self) -> list[TickerEntry]:
        """Return one row per CIK: its first row in the file."""
        return [entries[0] for entries in self._by_cik.values()]


def parse_company_tickers(body: Any) -> TickerIndex:
    """Read ``company_tickers.json``; rows without a numeric CIK or a ticker are skipped."""
    if not isinstance(body, dict):
        raise RegistryBadResponseError(_REGISTRY.value, "sec_edgar company_tickers.json is not a JSON object")
    entries: list[TickerEntry] = []
    for row in body.values():
        ticker = parsing.text(row, "ticker")
        title = parsing.text(row, "title")
        raw_cik = row.get("cik_str") if isinstance(row, dict) else None
        if ticker is None or title is None or raw_cik is None:
            continue
        try:
            cik = canonical_cik(raw_cik)
        except ValueError:
            continue
        entries.append(TickerEntry(cik=cik, ticker=ticker.upper(), title=title))
    return TickerIndex(entries)


def parse_submissions(body: Any, fetched_at: datetime) -> Company:
    """Read the submissions document of one CIK into a ``Company``.

    SEC records no company status, so ``status`` is ``unknown``. ``registered_address`` is the
    business address filed with the SEC, which is not always the registered office.
    """
    if not isinstance(body, dict) or parsing.text(body, "name") is None:
        raise RegistryBadResponseError(_REGISTRY.value, "sec_edgar submissions document has no company name")
    try:
        cik = canonical_cik(str(body.get("cik", "")))
    except ValueError:
        raise RegistryBadResponseError(_REGISTRY.value, "sec_edgar submissions document has no valid CIK") from None

    def sourced(value: Any) -> Any:
        return Sourced(value=value, source=_REGISTRY, fetched_at=fetched_at)

    sic = parsing.text(body, "sic")
    jurisdiction = _jurisdiction(body)
    address = _address(parsing.mapping(parsing.mapping(body, "addresses"), "business"))
    former_names = _former_names(parsing.items(body, "formerNames"))
    filings = latest_filings(parsing.mapping(parsing.mapping(body, "filings"), "recent"))
    return Company(
        legal_name=sourced(parsing.text(body, "name")),
        identifiers=CompanyIdentifiers(sec_cik=cik, lei=_valid_lei(parsing.text(body, "lei"))),
        status=sourced(CompanyStatus.UNKNOWN),
        jurisdiction=sourced(jurisdiction) if jurisdiction else None,
        industry_codes=sourced([us_sic_code(sic)]) if sic else None,
        registered_address=sourced(address) if address else None,
        former_names=sourced(former_names) if former_names else None,
        latest_filings=sourced(filings),
        notes=["SEC EDGAR records no company status; the address is the business address filed with the SEC."],
    )


def latest_filings(recent: dict[str, Any], forms: tuple[str, ...] = REPORT_FORMS) -> list[Filing]:
    """Return the latest filing of each form in ``forms`` from the column-oriented ``filings.recent``.

    Each key of ``recent`` is an array with one entry per filing, so filing ``i`` is
    ``recent["form"][i]``, ``recent["filingDate"][i]`` and so on. The result is newest first.
    """
    form_column = recent.get("form")
    if not isinstance(form_column, list):
        return []
    latest: dict[str, Filing] = {}
    for index, form in enumerate(form_column):
        if form not in forms:
            continue
        filing = _filing(recent, index, form)
        if filing is None:
            continue
        known = latest.get(form)
        if known is None or filing.filing_date > known.filing_date:
            latest[form] = filing
    return sorted(latest.values(), key=lambda filing: (filing.filing_date, filing.form), reverse=True)


def _column(recent: dict[str, Any], key: str, index: int) -> Any:
    column = recent.get(key)
    if isinstance(column, list) and index < len(column):
        return column[index]
    return None


def _filing(recent: dict[str, Any], index: int, form: str) -> Filing | None:
    filing_date = parsing.day(_column(recent, "filingDate", index))
    accession = _column(recent, "accessionNumber", index)
    if filing_date is None or not isinstance(accession, str) or not accession:
        return None
    report_date: date | None = parsing.day(_column(recent, "reportDate", index))  # "" when the form has none
    return Filing(form=form, filing_date=filing_date, report_date=report_date, accession=accession)


def _jurisdiction(body: dict[str, Any]) -> Jurisdiction | None:
    code = parsing.text(body, "stateOfIncorporation")
    if code is None:
        return None
    if _US_STATE_CODE.match(code):
        # EDGAR writes US states as their postal codes, which are also their ISO 3166-2 subdivision codes.
        return Jurisdiction(code=f"US-{code}", description=None)
    # NOTE: other EDGAR codes ("X0" United Kingdom, "M0" Japan) are EDGAR's own, kept with SEC's description.
    return Jurisdiction(code=code, description=parsing.text(body, "stateOfIncorporationDescription"))


def _address(raw: dict[str, Any]) -> Address | None:
    lines = [line for line in (parsing.text(raw, "street1"), parsing.text(raw, "street2")) if line]
    if not lines and parsing.text(raw, "city") is None:
        return None
    state = parsing.text(raw, "stateOrCountry")
    in_us = state is not None and _US_STATE_CODE.match(state) is not None
    country_code = parsing.text(raw, "countryCode")
    if in_us:
        country = "US"
    elif country_code is not None and len(country_code) == 2:  # an ISO 3166 alpha-2 code
        country = country_code.upper()
    else:
        country = None
    return Address(
        lines=lines,
        locality=parsing.text(raw, "city"),
        region=state if in_us else None,
        postal_code=parsing.text(raw, "zipCode"),
        country=country,
    )


def _former_names(raw: list[Any]) -> list[FormerName]:
    names: list[FormerName] = []
    for entry in raw:
        name = parsing.text(entry, "name")
        if name is None:
            continue
        # SEC writes these as US-Eastern midnight in UTC ("T05:00:00.000Z"), so the UTC date is the Eastern date.
        names.append(
            FormerName(name=name, from_date=parsing.day(entry.get("from")), to_date=parsing.day(entry.get("to")))
        )
    return names


def _valid_lei(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return canonical_lei(value)
    except ValueError:
        return None


class SecEdgar:
    """The SEC EDGAR adapter: one request per call, except that the ticker list is fetched once per process."""

    registry = _REGISTRY

    def __init__(
        self,
        files: RegistryClient,
        data: RegistryClient,
        *,
        user_agent: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not _CONTACT_EMAIL.search(user_agent):
            raise ValueError(
                f"SEC user agent {user_agent!r} has no contact email address; set CASCADE_SEC_USER_AGENT to a "
                'company name and email, such as "Example Corp ops@example.com"'
            )
        self._files = files
        self._data = data
        self._headers = {"User-Agent": user_agent}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tickers: TickerIndex | None = None
        self._lock = threading.Lock()

    def ticker_index(self, *, max_wait: float | None = None) -> TickerIndex:
        """Return the ticker list, fetching it on the first call of the process."""
        with self._lock:
            if self._tickers is None:
                body = self._files.get_json(TICKERS_PATH, headers=self._headers, max_wait=max_wait)
                self._tickers = parse_company_tickers(body)
            return self._tickers

    def company(self, cik: str | int, *, max_wait: float | None = None) -> Company:
        """Fetch and read the submissions document of ``cik``; raises ``RegistryNotFoundError`` for an unknown CIK."""
        path = f"/submissions/CIK{canonical_cik(cik)}.json"
        body = self._data.get_json(path, headers=self._headers, max_wait=max_wait)
        return parse_submissions(body, self._clock())

    def close(self) -> None:
        self._files.close()
        self._data.close()
