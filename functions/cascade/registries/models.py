"""Company facts from government registries: identifiers, facts with their source, queries and matches.

Every top-level fact of a ``Company`` is a ``Sourced`` value, which records the registry that
returned it and when it was fetched. Identifiers are canonicalised on construction, so equal
companies compare equal whatever spelling the caller used.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from cascade.domain.countries import parse_country_code

CountryCode = Annotated[str, AfterValidator(parse_country_code), Field(examples=["GB"])]

_CIK_DIGITS = 10
_UK_NUMBER_LENGTH = 8
_UK_PREFIXED_DIGITS = 6
_LEI_LENGTH = 20
_NO_ORG_LENGTH = 9
# Weights of the first eight digits of a Norwegian organisation number (modulus 11 check digit).
_NO_ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


class Registry(StrEnum):
    """A government register that Cascade reads company facts from."""

    SEC_EDGAR = "sec_edgar"
    COMPANIES_HOUSE = "companies_house"
    GLEIF = "gleif"
    BRREG = "brreg"


def canonical_cik(value: int | str) -> str:
    """Return the SEC Central Index Key as 10 digits with leading zeros.

    Accepts an integer, unpadded digits ("320193") and the EDGAR file-name form ("CIK0000320193").
    """
    if isinstance(value, bool):
        raise ValueError(f"sec_cik {value!r} is not a CIK; send up to 10 digits, such as 320193 or 0000320193")
    text = str(value).strip().upper().removeprefix("CIK").strip()
    if not text.isascii() or not text.isdigit() or len(text) > _CIK_DIGITS or int(text) == 0:
        raise ValueError(f"sec_cik {value!r} is not a CIK; send up to 10 digits, such as 320193 or 0000320193")
    return text.zfill(_CIK_DIGITS)


def canonical_uk_company_number(value: int | str) -> str:
    """Return the Companies House number as 8 characters.

    Digits are zero-padded to 8 ("445790" becomes "00445790"). A number with a two-letter
    prefix (SC, NI, OC, SO, FC and the others) keeps the prefix in upper case and pads its
    digits to 6 ("sc90312" becomes "SC090312"). Northern Ireland's older "R0" numbers are
    "R" followed by 7 digits.
    """
    text = "".join(str(value).split()).upper()
    expected = 'send 8 digits such as "00445790", or 2 letters and 6 digits such as "SC090312"'
    if isinstance(value, bool) or not text.isascii() or not text.isalnum() or len(text) > _UK_NUMBER_LENGTH:
        raise ValueError(f"uk_company_number {value!r} is not a Companies House number; {expected}")
    if text.isdigit():
        if int(text) == 0:
            raise ValueError(f"uk_company_number {value!r} is not a Companies House number; {expected}")
        return text.zfill(_UK_NUMBER_LENGTH)
    prefix, digits = text[:2], text[2:]
    if prefix[0] == "R" and prefix[1].isdigit():
        prefix, digits = "R", text[1:]
        if len(digits) == _UK_NUMBER_LENGTH - 1 and digits.isdigit():
            return prefix + digits
    elif prefix.isalpha() and digits.isdigit() and digits:
        return prefix + digits.zfill(_UK_PREFIXED_DIGITS)
    raise ValueError(f"uk_company_number {value!r} is not a Companies House number; {expected}")


def lei_checksum_valid(lei: str) -> bool:
    """Return whether the 20 characters pass the ISO 17442 check (ISO 7064 MOD 97-10, letters as 10 to 35)."""
    numeric = "".join(str(int(character, 36)) for character in lei)
    return int(numeric) % 97 == 1


def canonical_lei(value: str) -> str:
    """Return the Legal Entity Identifier in upper case after checking its ISO 17442 check digits."""
    text = "".join(str(value).split()).upper()
    if len(text) != _LEI_LENGTH or not text.isascii() or not text.isalnum():
        raise ValueError(
            f"lei {value!r} is not a Legal Entity Identifier; send 20 letters and digits, such as "
            '"2138002P5RNKC5W2JZ46"'
        )
    if not lei_checksum_valid(text):
        raise ValueError(
            f"lei {value!r} fails the ISO 17442 check digits (the last two characters); check it for a typing error"
        )
    return text


def norwegian_check_digit(first_eight: str) -> int | None:
    """Return the modulus 11 check digit of the first 8 digits, or ``None`` when no number can end them."""
    remainder = sum(int(digit) * weight for digit, weight in zip(first_eight, _NO_ORG_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return None if check == 10 else check


def canonical_no_org_number(value: int | str) -> str:
    """Return the Norwegian organisation number as 9 digits after checking its modulus 11 check digit."""
    text = "".join(str(value).split())
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or len(text) != _NO_ORG_LENGTH:
        raise ValueError(
            f'no_org_number {value!r} is not a Norwegian organisation number; send 9 digits such as "923609016"'
        )
    if norwegian_check_digit(text[:8]) != int(text[8]):
        raise ValueError(
            f"no_org_number {value!r} fails the modulus 11 check digit (the last digit); check it for a typing error"
        )
    return text


class CompanyIdentifiers(BaseModel):
    """Registry identifiers of one company, each in its registry's canonical form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sec_cik: str | None = Field(default=None, description="SEC EDGAR CIK, 10 digits.", examples=["0000320193"])
    uk_company_number: str | None = Field(
        default=None, description="Companies House number, 8 characters.", examples=["00445790"]
    )
    lei: str | None = Field(
        default=None, description="ISO 17442 Legal Entity Identifier.", examples=["2138002P5RNKC5W2JZ46"]
    )
    no_org_number: str | None = Field(
        default=None, description="Norwegian organisation number (Brønnøysund), 9 digits.", examples=["923609016"]
    )

    @field_validator("sec_cik", mode="before")
    @classmethod
    def _cik(cls, value: Any) -> str | None:
        return None if _blank(value) else canonical_cik(value)

    @field_validator("uk_company_number", mode="before")
    @classmethod
    def _uk_number(cls, value: Any) -> str | None:
        return None if _blank(value) else canonical_uk_company_number(value)

    @field_validator("lei", mode="before")
    @classmethod
    def _lei(cls, value: Any) -> str | None:
        return None if _blank(value) else canonical_lei(value)

    @field_validator("no_org_number", mode="before")
    @classmethod
    def _no_org_number(cls, value: Any) -> str | None:
        return None if _blank(value) else canonical_no_org_number(value)

    def is_empty(self) -> bool:
        return not (self.sec_cik or self.uk_company_number or self.lei or self.no_org_number)

    def merged(self, other: CompanyIdentifiers) -> CompanyIdentifiers:
        """Return these identifiers with the ones missing here taken from ``other``."""
        return CompanyIdentifiers(
            sec_cik=self.sec_cik or other.sec_cik,
            uk_company_number=self.uk_company_number or other.uk_company_number,
            lei=self.lei or other.lei,
            no_org_number=self.no_org_number or other.no_org_number,
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class CompanyStatus(StrEnum):
    """A company's legal status in one vocabulary for every registry; ``unknown`` when the registry has none."""

    ACTIVE = "active"
    DISSOLVED = "dissolved"
    IN_LIQUIDATION = "in_liquidation"
    IN_ADMINISTRATION = "in_administration"
    RECEIVERSHIP = "receivership"
    CONVERTED_CLOSED = "converted_closed"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"


class IndustryScheme(StrEnum):
    """An industry classification: US SIC as the SEC uses it, UK SIC 2007 and 2003, NAICS 2022, NACE (SN2007)."""

    US_SIC = "us_sic"
    UK_SIC_2007 = "uk_sic_2007"
    UK_SIC_2003 = "uk_sic_2003"
    NAICS_2022 = "naics_2022"
    NACE_SN2007 = "nace_sn2007"


class IndustryCode(BaseModel):
    """An industry code with its description; ``note`` explains a missing description."""

    model_config = ConfigDict(frozen=True)

    scheme: IndustryScheme
    code: str
    description: str | None = None
    note: str | None = None


class Address(BaseModel):
    """A postal address as the registry records it; ``country`` is ISO 3166 alpha-2 when known."""

    model_config = ConfigDict(frozen=True)

    lines: list[str] = Field(default_factory=list)
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Jurisdiction(BaseModel):
    """The place of incorporation.

    ``code`` is an ISO 3166 country or subdivision code ("GB", "US-DE") when the registry gives
    one, and otherwise the registry's own code (Companies House "england-wales", EDGAR "X0").
    """

    model_config = ConfigDict(frozen=True)

    code: str
    description: str | None = None


class ParentLevel(StrEnum):
    DIRECT = "direct"
    ULTIMATE = "ultimate"


class ParentLink(BaseModel):
    """A parent company, or the reason the registry gives for reporting none at this level.

    A reported parent has ``lei`` and, when known, ``legal_name`` and ``relationship_type``
    (GLEIF ``IS_DIRECTLY_CONSOLIDATED_BY``). A reporting exception has only ``exception_reason``
    (GLEIF ``NON_CONSOLIDATING``, ``NON_PUBLIC``). A corporate person with significant control
    from Companies House has ``legal_name`` and ``relationship_type`` ``PERSON_WITH_SIGNIFICANT_CONTROL``, and a
    Brønnøysund parent unit has ``identifiers`` and ``relationship_type`` ``OVERORDNET_ENHET``.
    """

    model_config = ConfigDict(frozen=True)

    level: ParentLevel
    lei: str | None = None
    legal_name: str | None = None
    identifiers: CompanyIdentifiers | None = Field(
        default=None, description="The parent's identifiers in a national register, such as its Norwegian number."
    )
    relationship_type: str | None = None
    exception_reason: str | None = None


class Filing(BaseModel):
    """One filing in a register: the SEC form type, dates and accession number."""

    model_config = ConfigDict(frozen=True)

    form: str
    filing_date: date
    report_date: date | None = None
    accession: str


class FormerName(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    from_date: date | None = None
    to_date: date | None = None


class CorporateOfficer(BaseModel):
    """An officer that is itself a company, such as a corporate secretary."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: str
    registration_number: str | None = None


class OfficerSummary(BaseModel):
    """Officer counts, with names only for officers that are companies (no natural persons)."""

    model_config = ConfigDict(frozen=True)

    active_count: int | None = None
    resigned_count: int | None = None
    total_results: int | None = None
    corporate_officers: list[CorporateOfficer] = Field(default_factory=list)


class ControllingEntity(BaseModel):
    """A company registered as a person with significant control (Companies House)."""

    model_config = ConfigDict(frozen=True)

    name: str
    legal_form: str | None = None
    country_registered: str | None = None
    registration_number: str | None = None
    natures_of_control: list[str] = Field(default_factory=list)
    ceased: bool = False


T = TypeVar("T")


class Sourced(BaseModel, Generic[T]):
    """A fact with the registry that returned it and when it was fetched."""

    model_config = ConfigDict(frozen=True)

    value: T
    source: Registry
    fetched_at: AwareDatetime


class Company(BaseModel):
    """Facts about one company, each with its source; a fact the registries do not give is ``None``."""

    model_config = ConfigDict(frozen=True)

    legal_name: Sourced[str]
    identifiers: CompanyIdentifiers
    status: Sourced[CompanyStatus]
    registry_status: Sourced[str] | None = Field(default=None, description="The status in the registry's own words.")
    incorporation_date: Sourced[date] | None = None
    dissolution_date: Sourced[date] | None = None
    jurisdiction: Sourced[Jurisdiction] | None = None
    legal_form: Sourced[str] | None = None
    website: Sourced[str] | None = None
    industry_codes: Sourced[list[IndustryCode]] | None = None
    registered_address: Sourced[Address] | None = None
    former_names: Sourced[list[FormerName]] | None = None
    parents: Sourced[list[ParentLink]] | None = None
    latest_filings: Sourced[list[Filing]] | None = Field(
        default=None, description="The latest filing of each periodic or current-report form kind (SEC)."
    )
    last_accounts_date: Sourced[date] | None = Field(
        default=None, description="Date the last accounts were made up to."
    )
    confirmation_statement_date: Sourced[date] | None = Field(
        default=None, description="Date the last confirmation statement (or annual return) was made up to."
    )
    officers: Sourced[OfficerSummary] | None = None
    controlling_entities: Sourced[list[ControllingEntity]] | None = None
    notes: list[str] = Field(default_factory=list)


class CompanyQuery(BaseModel):
    """``POST /v1/companies/enrich``: registry identifiers, a domain, or a name with an optional country.

    A name without a country is searched in GLEIF only, because Companies House and Brønnøysund
    are national registers.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    domain: Annotated[str, Field(max_length=2048, description="A bare domain or any website URL.")] | None = None
    name: Annotated[str, Field(max_length=300)] | None = None
    country: CountryCode | None = None
    identifiers: CompanyIdentifiers | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_strings_are_missing(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                key: (None if isinstance(value, str) and not value.strip() else value) for key, value in data.items()
            }
        return data

    @model_validator(mode="after")
    def _check_minimum_input(self) -> CompanyQuery:
        has_identifier = self.identifiers is not None and not self.identifiers.is_empty()
        if not (has_identifier or self.domain or self.name):
            raise ValueError(
                "too little to identify a company: send identifiers (sec_cik, uk_company_number, lei or "
                "no_org_number), a domain, or a name with a country"
            )
        return self


class MatchStatus(StrEnum):
    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


class CompanyCandidate(BaseModel):
    """A registry record that may be the requested company, with its match score from 0 to 1."""

    model_config = ConfigDict(frozen=True)

    legal_name: str
    identifiers: CompanyIdentifiers
    registry: Registry
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    reason: str
    status: CompanyStatus | None = None


class CompanyMatch(BaseModel):
    """The result of a company lookup: the resolved company, or the candidates when none is clearly best."""

    model_config = ConfigDict(frozen=True)

    status: MatchStatus
    company: Company | None = None
    candidates: list[CompanyCandidate] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
