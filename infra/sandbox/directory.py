"""Seeded synthetic directory of people and companies behind the provider sandbox.

Every vendor emulation builds its responses from one ``Directory``: fictional people at the real companies whose
registry records the project carries (SEC EDGAR, Companies House, GLEIF, Brønnøysund) and at invented
companies in twelve countries. ``Directory.generate(seed)`` is deterministic: the same seed gives an
equal directory, whatever ``PYTHONHASHSEED`` is. The companies are the same for every seed, so a test
can name a domain such as ``quillon-widgets.de``. The seed decides the people.

Each contact finder covers its own overlapping slice of the people, so a waterfall over all of them
finds far more than any single one. Whether a provider covers a person depends only on (seed, provider,
person id). "p" is the probability that a person inside the slice is covered, and "else" the
probability for everyone outside it. The phone columns apply only to people who have a phone.

===============  ==========================================  =====  =====  ===================================  =====
provider         email slice                                 p      else   phone slice                          p
===============  ==========================================  =====  =====  ===================================  =====
hunter           employer in US/GB/CA/AU, >= 51 employees    0.72   0.05   none                                 0
prospeo          person in an EU/EEA country                 0.88   0.05   EU/EEA mobile numbers                0.35
peopledatalabs   everyone                                    0.36   -      director and above                   0.55
                                                                           everyone else                        0.10
apollo           person in the US, software/hardware/web     0.90   0.15   none                                 0
                 person in the US, other industries          0.75
                 elsewhere, software/hardware/web            0.55
leadmagic        tech or finance industry                    0.70   0.10   same industries, mobile-capable      0.45
findymail        employer with 51-5000 employees             0.65   0.10   manager and above                    0.40
lusha            everyone                                    0.40   -      manager and above                    0.80
                                                                           everyone else                        0.30
===============  ==========================================  =====  =====  ===================================  =====

"Mobile-capable" means a ``mobile`` or ``fixed_line_or_mobile`` line type. Junior people are more often
"low profile" (``_LOW_PROFILE_RATES``), and every email probability for them is multiplied by 0.15, so
that some people stay out of reach of every provider. For the default directory (seed 7, 2,400 people)
this gives single-provider email coverage of 27-37% and 84.5% for the union of all seven. Every
provider also keeps the old record of some people who changed jobs (``returns_stale``), at the rates
in ``_STALE_RATES``.

Other facts a caller can rely on:

- About 8% of people moved: ``previous_company`` and ``stale_email`` are set, the stale address always
  has ``mailbox_status`` ``"invalid"``, and the old employer is never a catch-all domain.
- The two dissolved companies are nobody's current employer. A few people list one as their previous
  company, and ``is_dissolved`` returns whether a company is one of them.
- Domains without MX hosts reject every address, so their people's ``email_status`` is ``"invalid"``.
- Phones use the fictional ranges that regulators reserve where libphonenumber accepts them (NANP
  555-01xx, Ofcom's drama ranges, ACMA's 5550 and 0491 57 ranges, ARCEP's fixed-line ranges). Other
  numbers, including GB mobiles because libphonenumber rejects Ofcom's 07700 900 range, vary the last
  digits of libphonenumber's example numbers and may belong to real subscribers. The sandbox never
  dials them. Every number is valid for the person's country, and its libphonenumber type equals
  ``phone_line_type``. People without a phone have ``phone_line_type`` ``"unknown"``.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import unquote

import disposable_email_domains
import phonenumbers
from anyascii import anyascii
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

PROVIDERS: tuple[str, ...] = ("hunter", "prospeo", "peopledatalabs", "apollo", "leadmagic", "findymail", "lusha")

MailboxStatus = Literal["valid", "invalid", "catch_all", "disposable", "unknown"]

FIELDS: Final[tuple[str, ...]] = ("email", "phone")
SENIORITIES: Final[tuple[str, ...]] = ("entry", "senior", "manager", "director", "vp", "c_level")
SIZE_BANDS: Final[tuple[str, ...]] = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+")
DEFAULT_SEED: Final = 7
DEFAULT_PEOPLE: Final = 2400
MAX_PEOPLE: Final = 10_000


@dataclass(frozen=True, slots=True)
class SandboxCompany:
    """A company in the sandbox directory, real or invented."""

    id: str  # "co-0001"
    name: str  # display name, such as "Tesco"
    legal_name: str  # registered name, such as "TESCO PLC"
    domain: str  # ASCII registrable domain of the company's mail and website
    country: str  # ISO 3166 alpha-2 code of the registered office
    employees: int
    size_band: str  # one of SIZE_BANDS
    industry: str
    catch_all: bool  # the mail server accepts every recipient, so no address can be proven
    email_pattern: str  # str.format pattern over first, last, f and l, such as "{first}.{last}"
    mx_hosts: tuple[str, ...]  # empty when the domain has no MX record
    registry_ids: Mapping[str, str] = field(hash=False)  # keys: sec_cik, uk_company_number, lei, no_org_number
    synthetic: bool  # invented company whose registry id is synthetic


@dataclass(frozen=True, slots=True)
class SandboxPerson:
    """A fictional person with the contact facts the vendors return and the verifiers check."""

    id: str  # "p-00001"
    first_name: str  # may contain non-ASCII letters, apostrophes, hyphens and spaces
    last_name: str
    full_name: str  # first_name and last_name joined by a space
    title: str
    seniority: str  # one of SENIORITIES
    department: str
    company: SandboxCompany  # current employer
    country: str  # where the person works, which can differ from the company's country
    linkedin_slug: str  # lower-case and unique
    email: str  # current work address, built from the company's email_pattern in ASCII
    email_status: MailboxStatus  # mailbox status that a verifier finds for email
    role_email: str | None  # shared department address, such as "sales@tesco.com"
    phone_e164: str | None  # direct dial
    phone_line_type: str  # libphonenumber's type name for phone_e164, or "unknown" without a phone
    previous_company: SandboxCompany | None  # set when the person moved jobs
    stale_email: str | None  # old address at previous_company, which now bounces
    coverage: Mapping[str, frozenset[str]] = field(hash=False)  # provider -> fields among "email", "phone"


# ----------------------------------------------------------------------------------------------------------------
# Companies
# ----------------------------------------------------------------------------------------------------------------

_MailSetup = Literal["google", "microsoft", "own", "none"]


@dataclass(frozen=True, slots=True)
class _CompanySpec:
    name: str
    legal_name: str
    domain: str
    country: str
    employees: int
    industry: str
    email_pattern: str
    mail: _MailSetup
    registry_ids: Mapping[str, str] | None = None  # None: derive a synthetic id of the country's kind
    catch_all: bool = False
    offices: tuple[str, ...] = ()  # other countries where the directory places some of its people
    aliases: tuple[str, ...] = ()  # other names the company is known by (trade names, former names)
    dissolved: bool = False


# Registry ids are copied from the registry records. Headcounts are rough public figures for the group,
# used only to pick a size band and how many people the company gets, and are not registry facts.
# fmt: off
_REAL_COMPANIES: Final[tuple[_CompanySpec, ...]] = (
    _CompanySpec(
        "Apple", "Apple Inc.", "apple.com", "US", 164_000, "hardware", "{f}{last}", "own",
        {"sec_cik": "0000320193", "lei": "HWUPKR0MPOU8FGXBT394"},
        offices=("GB", "DE", "FR", "JP", "AU"), aliases=("Apple Computer",),
    ),
    _CompanySpec(
        "Microsoft", "MICROSOFT CORP", "microsoft.com", "US", 228_000, "software", "{first}.{last}", "microsoft",
        {"sec_cik": "0000789019", "lei": "INR2EJN1ERAN0W5ZP974"},
        offices=("GB", "DE", "IE", "NL", "SE"),
    ),
    _CompanySpec(
        "Amazon", "AMAZON COM INC", "amazon.com", "US", 1_550_000, "retail", "{first}{l}", "own",
        {"sec_cik": "0001018724", "lei": "ZXTILKJKG63JELOEG630"},
        offices=("DE", "ES", "IT", "CA"), aliases=("Amazon.com",),
    ),
    _CompanySpec(
        "Meta", "Meta Platforms, Inc.", "meta.com", "US", 67_000, "internet", "{first}{l}", "own",
        {"sec_cik": "0001326801"},
        offices=("GB", "IE"), aliases=("Facebook", "Meta Platforms"),
    ),
    _CompanySpec(
        "Berkshire Hathaway", "BERKSHIRE HATHAWAY INC", "berkshirehathaway.com", "US", 392_000, "insurance",
        "{f}{last}", "microsoft", {"sec_cik": "0001067983"}, catch_all=True,
    ),
    _CompanySpec(
        "ExxonMobil", "EXXON MOBIL CORP", "exxonmobil.com", "US", 61_000, "energy", "{first}.{last}", "microsoft",
        {"sec_cik": "0000034088"},
        offices=("GB", "CA"), aliases=("Exxon",),
    ),
    _CompanySpec(
        "Toyota", "TOYOTA MOTOR CORP", "toyota.co.jp", "JP", 380_000, "automotive", "{first}_{last}", "own",
        {"sec_cik": "0001094517"},
        offices=("US", "GB"), aliases=("Toyota Motor",),
    ),
    _CompanySpec(
        "Shell", "Shell plc", "shell.com", "GB", 96_000, "energy", "{first}.{last}", "microsoft",
        {"sec_cik": "0001306965", "uk_company_number": "04366849", "lei": "21380068P1DRHMJ8KU70"},
        offices=("NL", "US"), aliases=("Royal Dutch Shell",),
    ),
    _CompanySpec(
        "Tesco", "TESCO PLC", "tesco.com", "GB", 330_000, "retail", "{first}.{last}", "microsoft",
        {"uk_company_number": "00445790", "lei": "2138002P5RNKC5W2JZ46"},
    ),
    _CompanySpec(
        "Monzo", "MONZO BANK LIMITED", "monzo.com", "GB", 3_500, "banking", "{first}{l}", "google",
        {"uk_company_number": "09446231"},
        aliases=("Monzo Bank",),
    ),
    _CompanySpec(
        "Deloitte", "DELOITTE LLP", "deloitte.co.uk", "GB", 27_000, "consulting", "{f}{last}", "own",
        {"uk_company_number": "OC303675"},
        aliases=("Deloitte UK",),
    ),
    _CompanySpec(
        "NatWest Markets", "NATWEST MARKETS PLC", "natwestmarkets.com", "GB", 4_300, "banking", "{first}.{last}",
        "microsoft", {"uk_company_number": "SC090312"}, catch_all=True,
    ),
    _CompanySpec(
        "CIC Private Debt", "CIC PRIVATE DEBT", "cic-privatedebt.fr", "FR", 40, "investment", "{first}.{last}",
        "microsoft", {"uk_company_number": "FC032315"},
        offices=("GB",), aliases=("CM-CIC Private Debt",),
    ),
    _CompanySpec(
        "Marine and General Mutual Life Assurance Society", "MARINE AND GENERAL MUTUAL LIFE ASSURANCE SOCIETY",
        "mgmassurance.co.uk", "GB", 60, "insurance", "{f}{last}", "none", {"uk_company_number": "00000006"},
        dissolved=True,
    ),
    _CompanySpec(
        "Intaglio Systems", "INTAGLIO SYSTEMS LIMITED", "intaglio-systems.co.uk", "GB", 8, "software", "{first}",
        "none", {"uk_company_number": "02894655"}, dissolved=True,
    ),
    _CompanySpec(
        "Commerzbank", "COMMERZBANK Aktiengesellschaft", "commerzbank.de", "DE", 42_000, "banking",
        "{first}.{last}", "own", {"lei": "851WYGNLUQLFZBSYGB56"},
        offices=("GB",),
    ),
    _CompanySpec(
        "Amazon Digital UK", "Amazon Digital UK Limited", "amazon.co.uk", "GB", 2_000, "internet", "{first}{l}",
        "own", {"uk_company_number": "06528297", "lei": "254900LNRYNOQ9YPU758"},
        aliases=("Amazon UK",),
    ),
    _CompanySpec(
        "Equinor", "EQUINOR ASA", "equinor.com", "NO", 21_239, "energy", "{first}{l}", "microsoft",
        {"no_org_number": "923609016"},
        offices=("GB", "US"), aliases=("Statoil", "StatoilHydro"),
    ),
    _CompanySpec(
        "Brønnøysund Register Centre", "REGISTERENHETEN I BRØNNØYSUND", "brreg.no", "NO", 600, "government",
        "{first}.{last}", "microsoft", {"no_org_number": "974760673"},
        aliases=("Brønnøysundregistrene",),
    ),
)
# fmt: on

# Invented companies. The names and domains are made up, and the registry ids are derived synthetic ones.
# fmt: off
_SYNTHETIC_COMPANIES: Final[tuple[_CompanySpec, ...]] = (
    _CompanySpec("Quillfeather Analytics", "Quillfeather Analytics, Inc.", "quillfeather-analytics.com", "US",
                 240, "software", "{first}.{last}", "google"),
    _CompanySpec("Brackenridge Freight", "Brackenridge Freight LLC", "brackenridge-freight.com", "US", 1_800,
                 "logistics", "{f}{last}", "microsoft"),
    _CompanySpec("Tallowmere Health", "Tallowmere Health Corp.", "tallowmere-health.com", "US", 6_200,
                 "healthcare", "{first}.{last}", "own"),
    _CompanySpec("Pinecrest Dataworks", "Pinecrest Dataworks, Inc.", "pinecrest-dataworks.io", "US",
                 35, "software", "{first}", "google"),
    _CompanySpec("Oakhollow Pay", "Oakhollow Pay Corp.", "oakhollow-pay.com", "US", 420,
                 "fintech", "{first}{l}", "google"),
    _CompanySpec("Dunmore Tool & Die", "Dunmore Tool & Die Co.", "dunmore-tooldie.com", "US", 9,
                 "manufacturing", "{first}", "own", catch_all=True),
    _CompanySpec("Farrowby Logistics", "Farrowby Logistics Ltd", "farrowby-logistics.co.uk", "GB", 310,
                 "logistics", "{first}.{last}", "microsoft"),
    _CompanySpec("Kettleby Software", "Kettleby Software Limited", "kettleby-software.co.uk", "GB", 85,
                 "software", "{first}", "google", catch_all=True),
    _CompanySpec("Ashgrove Brokers", "Ashgrove Insurance Brokers LLP", "ashgrove-brokers.co.uk", "GB", 140,
                 "insurance", "{f}.{last}", "microsoft"),
    _CompanySpec("Wrenfield Foods", "Wrenfield Foods PLC", "wrenfield-foods.co.uk", "GB", 2_400,
                 "food", "{first}.{last}", "own"),
    _CompanySpec("Hollin & Marsh", "Hollin & Marsh Ltd", "hollin-marsh.co.uk", "GB", 9,
                 "consulting", "{first}", "none"),
    _CompanySpec("Quillon Widgets", "Quillon Widgets GmbH", "quillon-widgets.de", "DE", 180,
                 "manufacturing", "{first}.{last}", "own", catch_all=True),
    _CompanySpec("Brenntal Maschinenbau", "Brenntal Maschinenbau GmbH & Co. KG", "brenntal-maschinenbau.de", "DE", 950,
                 "manufacturing", "{f}.{last}", "own"),
    _CompanySpec("Lindmoor Software", "Lindmoor Software AG", "lindmoor-software.de", "DE", 640,
                 "software", "{first}.{last}", "google"),
    _CompanySpec("Sägewerk Ohlendorf", "Sägewerk Ohlendorf GmbH", "saegewerk-ohlendorf.de", "DE", 24,
                 "manufacturing", "{last}.{first}", "own"),
    _CompanySpec("Fernwald Logistik", "Fernwald Logistik GmbH", "fernwald-logistik.de", "DE", 3_100,
                 "logistics", "{first}.{last}", "microsoft"),
    _CompanySpec("Mireval Conseil", "Mireval Conseil SAS", "mireval-conseil.fr", "FR", 75,
                 "consulting", "{first}.{last}", "google", catch_all=True),
    _CompanySpec("Boulangeries Tressac", "Boulangeries Tressac SA", "tressac-boulangeries.fr", "FR", 1_200,
                 "food", "{f}{last}", "own"),
    _CompanySpec("Vaucresson Énergie", "Vaucresson Énergie SAS", "vaucresson-energie.fr", "FR", 260,
                 "energy", "{first}.{last}", "microsoft"),
    _CompanySpec("Loirac Logiciels", "Loirac Logiciels SARL", "loirac-logiciels.fr", "FR", 18,
                 "software", "{first}", "google"),
    _CompanySpec("Fjellvik Havbruk", "Fjellvik Havbruk AS", "fjellvik-havbruk.no", "NO", 210,
                 "food", "{first}.{last}", "microsoft"),
    _CompanySpec("Nordstrand Kraft", "Nordstrand Kraft AS", "nordstrand-kraft.no", "NO", 480,
                 "energy", "{first}{l}", "own"),
    _CompanySpec("Skarholt Data", "Skarholt Data AS", "skarholt-data.no", "NO", 40,
                 "software", "{first}", "google"),
    _CompanySpec("Björkdal Verktyg", "Björkdal Verktyg AB", "bjorkdal-verktyg.se", "SE", 330,
                 "manufacturing", "{first}.{last}", "own"),
    _CompanySpec("Solvik Betalningar", "Solvik Betalningar AB", "solvik-betalningar.se", "SE", 150,
                 "fintech", "{first}.{last}", "google", catch_all=True),
    _CompanySpec("Ängsholm Media", "Ängsholm Media AB", "angsholm-media.se", "SE", 60,
                 "media", "{first}_{last}", "microsoft"),
    _CompanySpec("Tejeda Logística", "Tejeda Logística S.L.", "tejeda-logistica.es", "ES", 120,
                 "logistics", "{f}{last}", "microsoft"),
    _CompanySpec("Almendral Seguros", "Almendral Seguros, S.A.", "almendral-seguros.es", "ES",
                 900, "insurance", "{first}.{last}", "own"),
    _CompanySpec("Ribazo Software", "Ribazo Software S.L.", "ribazo-software.es", "ES", 28,
                 "software", "{first}", "google"),
    _CompanySpec("Van Houtem Installatietechniek", "Van Houtem Installatietechniek B.V.", "vanhoutem-installatie.nl",
                 "NL", 95, "construction", "{f}.{last}", "microsoft"),
    _CompanySpec("Dijkveld Betalingen", "Dijkveld Betalingen B.V.", "dijkveld-betalingen.nl", "NL", 230,
                 "fintech", "{first}.{last}", "google"),
    _CompanySpec("Zeeburg Logistiek", "Zeeburg Logistiek N.V.", "zeeburg-logistiek.nl", "NL", 1_400,
                 "logistics", "{f}{last}", "own"),
    _CompanySpec("Ferravalle Meccanica", "Ferravalle Meccanica S.p.A.", "ferravalle-meccanica.it", "IT", 760,
                 "manufacturing", "{first}.{last}", "own"),
    _CompanySpec("Casalverde Alimentari", "Casalverde Alimentari S.r.l.", "casalverde-alimentari.it", "IT", 55,
                 "food", "{f}.{last}", "microsoft"),
    _CompanySpec("Lucarno Software", "Lucarno Software S.r.l.", "lucarno-software.it", "IT", 12,
                 "software", "{first}", "none"),
    _CompanySpec("Wattlebrook Mining", "Wattlebrook Mining Pty Ltd", "wattlebrook-mining.com.au", "AU", 1_100,
                 "mining", "{first}.{last}", "microsoft"),
    _CompanySpec("Coorabell Software", "Coorabell Software Pty Ltd", "coorabell-software.com.au", "AU", 70,
                 "software", "{first}", "google", catch_all=True),
    _CompanySpec("Tumbarra Freight", "Tumbarra Freight Pty Ltd", "tumbarra-freight.com.au", "AU", 260,
                 "logistics", "{f}{last}", "own"),
    _CompanySpec("Maplecroft Robotics", "Maplecroft Robotics Inc.", "maplecroft-robotics.ca", "CA", 140,
                 "hardware", "{first}.{last}", "google"),
    _CompanySpec("Glenmarrow Financial", "Glenmarrow Financial Ltd.", "glenmarrow-financial.ca", "CA", 2_100,
                 "banking", "{f}{last}", "microsoft"),
    _CompanySpec("Takanoha Seimitsu", "Takanoha Seimitsu K.K.", "takanoha-seimitsu.co.jp", "JP", 1_300,
                 "manufacturing", "{first}.{last}", "own"),
    _CompanySpec("Mizutora Denki", "Mizutora Denki Co., Ltd.", "mizutora-denki.co.jp", "JP",
                 420, "hardware", "{last}.{first}", "microsoft"),
)
# fmt: on

_TECH_INDUSTRIES: Final = frozenset({"software", "hardware", "internet"})
_FINANCE_INDUSTRIES: Final = frozenset({"banking", "fintech", "insurance", "investment"})
_EU_EEA: Final = frozenset(
    {"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "NO", "PL", "PT", "SE"},
)
_ENGLISH_SPEAKING_MARKETS: Final = frozenset({"US", "GB", "CA", "AU"})

# Tokens dropped from the end of a company name before names are compared, so that "Tesco PLC", "TESCO"
# and "Tesco plc." match. "and" is listed for "GmbH & Co. KG" once "&" has become "and".
_LEGAL_FORM_WORDS: Final = frozenset(
    "inc incorporated corp corporation co company cos ltd limited llc llp lp plc pllc "
    "gmbh mbh ag kg kgaa ohg ug se aktiengesellschaft gesellschaft mit beschrankter haftung "
    "sa sas sasu sarl eurl societe anonyme par actions simplifiee "
    "sl slu sociedad limitada anonima spa srl sapa "
    "bv nv vof besloten naamloze vennootschap "
    "as asa ab aktiebolag aksjeselskap allmennaksjeselskap oy oyj aps "
    "kk kabushiki kaisha pty pte and".split()
)


def _size_band(employees: int) -> str:
    for upper, band in ((10, "1-10"), (50, "11-50"), (200, "51-200"), (1000, "201-1000"), (5000, "1001-5000")):
        if employees <= upper:
            return band
    return "5001+"


def _mx_hosts(domain: str, mail: _MailSetup) -> tuple[str, ...]:
    if mail == "google":
        return ("aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com")
    if mail == "microsoft":
        return (f"{domain.replace('.', '-')}.mail.protection.outlook.com",)
    if mail == "own":
        return (f"mx1.{domain}", f"mx2.{domain}")
    return ()


def _digest(*parts: object) -> bytes:
    # hashlib rather than hash(): str hashes change with PYTHONHASHSEED, and the directory must not.
    return hashlib.blake2b(":".join(str(part) for part in parts).encode(), digest_size=16).digest()


def _digits_from(seed_text: str, count: int) -> str:
    return str(int.from_bytes(_digest("digits", seed_text), "big"))[-count:].zfill(count)


def _lei_check_digits(base: str) -> str:
    # ISO 17442 uses the ISO 7064 MOD 97-10 check of IBANs: letters count as 10..35.
    numeric = "".join(str(int(character, 36)) for character in base)
    return f"{98 - int(numeric + '00') % 97:02d}"


def _synthetic_lei(domain: str) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value = int.from_bytes(_digest("lei", domain), "big")
    entity = ""
    for _ in range(12):
        value, index = divmod(value, len(alphabet))
        entity += alphabet[index]
    # "ZZZZ" is no LEI issuer's prefix, which marks the identifier as synthetic.
    base = f"ZZZZ00{entity}"
    return base + _lei_check_digits(base)


def _synthetic_no_org_number(domain: str) -> str:
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    for attempt in range(100):
        body = "99" + _digits_from(f"{domain}:{attempt}", 6)
        remainder = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check < 10:
            return f"{body}{check}"
    raise RuntimeError(f"no valid synthetic Norwegian organisation number found for {domain}")


def _synthetic_registry_ids(domain: str, country: str) -> dict[str, str]:
    # NOTE: the prefixes sit above the ranges issued so far, as estimated in 2025 (EDGAR CIKs near
    # 0002100000, Companies House numbers near 17000000), so "00099..." and "99..." should match no real record.
    if country == "US":
        return {"sec_cik": "00099" + _digits_from(domain, 5)}
    if country == "GB":
        return {"uk_company_number": "99" + _digits_from(domain, 6)}
    if country == "NO":
        return {"no_org_number": _synthetic_no_org_number(domain)}
    return {"lei": _synthetic_lei(domain)}


@functools.cache
def _companies() -> tuple[tuple[SandboxCompany, ...], frozenset[str]]:
    """Build every company once. The second value contains the ids of the dissolved ones."""
    companies: list[SandboxCompany] = []
    dissolved: set[str] = set()
    for index, spec in enumerate((*_REAL_COMPANIES, *_SYNTHETIC_COMPANIES), start=1):
        ids = spec.registry_ids if spec.registry_ids is not None else _synthetic_registry_ids(spec.domain, spec.country)
        company = SandboxCompany(
            id=f"co-{index:04d}",
            name=spec.name,
            legal_name=spec.legal_name,
            domain=spec.domain,
            country=spec.country,
            employees=spec.employees,
            size_band=_size_band(spec.employees),
            industry=spec.industry,
            catch_all=spec.catch_all,
            email_pattern=spec.email_pattern,
            mx_hosts=_mx_hosts(spec.domain, spec.mail),
            registry_ids=MappingProxyType(dict(ids)),
            synthetic=spec.registry_ids is None,
        )
        companies.append(company)
        if spec.dissolved:
            dissolved.add(company.id)
    return tuple(companies), frozenset(dissolved)


@functools.cache
def _company_aliases() -> Mapping[str, tuple[str, ...]]:
    specs = (*_REAL_COMPANIES, *_SYNTHETIC_COMPANIES)
    return MappingProxyType({spec.domain: spec.aliases for spec in specs})


@functools.cache
def _company_offices() -> Mapping[str, tuple[str, ...]]:
    specs = (*_REAL_COMPANIES, *_SYNTHETIC_COMPANIES)
    return MappingProxyType({spec.domain: spec.offices for spec in specs})


# ----------------------------------------------------------------------------------------------------------------
# Names, titles and phone plans
# ----------------------------------------------------------------------------------------------------------------


def _pool(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


_ENGLISH_GIVEN: Final = _pool(
    "James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, William, Elizabeth, David, Barbara, "
    "Richard, Susan, Joseph, Jessica, Thomas, Sarah, Charles, Karen, Christopher, Lisa, Daniel, Nancy, "
    "Matthew, Margaret, Mark, Sandra, Andrew, Ashley, Joshua, Emily, Kevin, Donna, Brian, Michelle, "
    "George, Laura, Ryan, Amanda, Jacob, Rachel, Nicholas, Megan, Oliver, Chloe, Harry, Sophie, Jack, "
    "Lucy, Mary-Jane, Anne-Marie"
)
_ENGLISH_FAMILY: Final = _pool(
    "Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson, Thomas, Taylor, Moore, "
    "Jackson, Martin, Lee, Thompson, White, Harris, Clark, Lewis, Robinson, Walker, Young, Allen, King, "
    "Wright, Scott, Hill, Green, Adams, Baker, Nelson, Carter, Mitchell, Roberts, Turner, Phillips, "
    "Campbell, Parker, Evans, Edwards, Collins, Stewart, Morris, Murphy, Cook, Rogers, Morgan, Cooper, "
    "Bailey, Kelly, Howard, Ward, Smith-Jones"
)
_GIVEN_NAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "US": _ENGLISH_GIVEN + _pool("Tyler, Madison, Brandon, Kayla, Jose, Maria, Wei, Priya, DeShawn, Alexis"),
        "GB": _ENGLISH_GIVEN + _pool("Amelia, Isla, Rhys, Ffion, Siobhan, Niamh, Eilidh, Callum, Aoife, Alfie"),
        "IE": _ENGLISH_GIVEN + _pool("Seán, Aoife, Niamh, Ciarán, Siobhán, Róisín, Pádraig, Orla, Darragh, Caoimhe"),
        "CA": _ENGLISH_GIVEN + _pool("Émilie, Mathieu, Geneviève, Étienne, Chantal, Marc-André, Jean-François"),
        "AU": _ENGLISH_GIVEN + _pool("Lachlan, Tahlia, Brooke, Kylie, Jarrod, Mitchell, Bronwyn, Hamish"),
        "DE": _pool(
            "Jürgen, Jörg, Sören, Björn, Lukas, Felix, Maximilian, Jonas, Leon, Paul, Anna, Lena, Leonie, "
            "Marie, Hannah, Katrin, Sabine, Ute, Anke, Jens, Uwe, Dirk, Stefan, Andreas, Karl-Heinz, "
            "Hans-Peter, Anne-Kathrin, Bärbel, Mareike, Günther, Jürgen-Michael, Käthe"
        ),
        "FR": _pool(
            "Jean, Marie, Pierre, Camille, Hélène, Zoë, Chloé, Léa, Manon, Inès, Louis, Gabriel, Théo, Hugo, "
            "Raphaël, Noé, Jérôme, Sébastien, François, Stéphane, Amélie, Élodie, Cécile, Jean-Luc, "
            "Marie-Claire, Anne-Sophie, Benoît, Gaëlle, Maëlle, Loïc"
        ),
        "ES": _pool(
            "José, María, Antonio, Carmen, Manuel, Ana, Francisco, Lucía, Javier, Laura, David, Marta, Daniel, "
            "Sofía, Alejandro, Paula, Jesús, Raúl, Álvaro, Ángela, Iñaki, Begoña, Nuria, Sergio, Íñigo, "
            "María José, Juan Carlos"
        ),
        "NO": _pool(
            "Ole, Lars, Bjørn, Knut, Jan, Per, Kari, Ingrid, Liv, Anne, Marit, Solveig, Åse, Øystein, Håkon, "
            "Sigrid, Eirik, Torbjørn, Ragnhild, Silje, Ingvild, Jørgen, Nora, Emma, Astrid, Mathias, Sindre, "
            "Tuva, Jens, Stian"
        ),
        "SE": _pool(
            "Åsa, Anna, Eva, Maria, Karin, Kristina, Lena, Sara, Emma, Malin, Ingrid, Linnéa, Maja, Elsa, Lars, "
            "Anders, Johan, Per, Karl, Erik, Nils, Mikael, Björn, Göran, Måns, Ludvig, Oskar, Hugo, Axel, "
            "Ann-Kristin, Lars-Göran"
        ),
        "NL": _pool(
            "Jan, Pieter, Daan, Sem, Lucas, Bram, Thijs, Sanne, Lotte, Emma, Julia, Anouk, Femke, Maartje, "
            "Joris, Koen, Willem, Sietske, Geert, Ruud, Marieke, Ingeborg, Wouter, Floor, Jeroen, Mees"
        ),
        "IT": _pool(
            "Giuseppe, Giovanni, Antonio, Mario, Luigi, Francesco, Marco, Andrea, Luca, Alessandro, Matteo, "
            "Lorenzo, Niccolò, Maria, Anna, Giulia, Francesca, Chiara, Sara, Valentina, Federica, Elisa, "
            "Martina, Alessia, Ilaria, Gianluca, Pierpaolo, Maria Grazia"
        ),
        "JP": _pool(
            "Haruto, Yuto, Sota, Yuki, Hayato, Ren, Daiki, Kenji, Takeshi, Hiroshi, Satoshi, Naoki, Yui, Aoi, "
            "Hina, Sakura, Yuna, Mio, Rin, Akiko, Keiko, Tomoko, Yūta, Kōji, Shōta, Yūko"
        ),
    }
)
_FAMILY_NAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "US": _ENGLISH_FAMILY
        + _pool("Garcia, Rodriguez, Hernandez, Lopez, Nguyen, Kim, Chen, Patel, D'Souza, O'Brien"),
        "GB": _ENGLISH_FAMILY
        + _pool(
            "Patel, Khan, Hughes, Wood, Hall, Walsh, O'Brien, O'Connor, O'Neill, McDonald, MacLeod, Davies, "
            "Price, Ashworth-Hughes, Fitzgerald"
        ),
        "IE": _ENGLISH_FAMILY
        + _pool("O'Brien, O'Sullivan, Ó Briain, Murphy, Byrne, Ryan, Doyle, McCarthy, Ní Bhriain"),
        "CA": _ENGLISH_FAMILY
        + _pool("Tremblay, Gagnon, Roy, Côté, Bouchard, Gauthier, Morin, Lavoie, Bélanger, Lévesque"),
        "AU": _ENGLISH_FAMILY + _pool("Nguyen, Tran, O'Sullivan, Ryan, Kelly, Murphy, Papadopoulos, McKenzie"),
        "DE": _pool(
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch, "
            "Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger, Hartmann, "
            "Lange, Werner, Krause, Lehmann, Köhler, König, Fuchs, Möller, Weiß, Groß, Schmidt-Böhm, von Berg, "
            "zu Ahlen"
        ),
        "FR": _pool(
            "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent, "
            "Lefèvre, Michel, Bertrand, Roux, Vincent, Fournier, Morel, Girard, André, Mercier, Dupont, "
            "Lambert, Bonnet, Le Gall, Le Goff, N'Diaye, de Sousa, Rivière, Gauthier, Lemaître, Moreau-Lefèvre"
        ),
        "ES": _pool(
            "García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, Martín, Jiménez, "
            "Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, Gutiérrez, Navarro, Torres, "
            "Domínguez, Vázquez, Ramos, Serrano, Núñez, Ibáñez, Peña, Castaño"
        ),
        "NO": _pool(
            "Hansen, Johansen, Olsen, Larsen, Andersen, Pedersen, Nilsen, Kristiansen, Jensen, Karlsen, "
            "Johnsen, Pettersen, Eriksen, Berg, Haugen, Hagen, Dahl, Jørgensen, Halvorsen, Lund, Sørensen, "
            "Moen, Strand, Solberg, Ødegård, Bråten, Løken, Sæther, Næss, Bjørnstad"
        ),
        "SE": _pool(
            "Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsson, Persson, Svensson, Gustafsson, "
            "Pettersson, Jonsson, Hansson, Bengtsson, Jönsson, Lindberg, Magnusson, Lindström, Lindqvist, "
            "Lindgren, Bergström, Lundberg, Lundqvist, Berglund, Söderberg, Åberg, Ström, Sjöberg, Nyström, "
            "Öberg"
        ),
        "NL": _pool(
            "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer, de Boer, "
            "Mulder, de Groot, Bos, Vos, Hendriks, van Leeuwen, Dekker, Brouwer, de Wit, Dijkstra, de Graaf, "
            "van der Meer, van der Linden, Kok, de Haan, Vermeulen, van den Heuvel, 't Hart, van 't Hof"
        ),
        "IT": _pool(
            "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo, "
            "Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti, Barbieri, Fontana, Santoro, "
            "Mariani, Rinaldi, Caruso, D'Angelo, Dell'Acqua, De Santis, Galli"
        ),
        "JP": _pool(
            "Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Yamamoto, Nakamura, Kobayashi, Kato, Yoshida, "
            "Yamada, Sasaki, Yamaguchi, Matsumoto, Inoue, Kimura, Hayashi, Shimizu, Mori, Abe, Ikeda, "
            "Hashimoto, Ishikawa, Ogawa, Ōno, Ōta, Saitō, Kondō, Gotō"
        ),
    }
)
# Spanish people often carry two family names ("García Núñez"), which splits badly on whitespace.
_DOUBLE_FAMILY_NAME_RATE: Final[Mapping[str, float]] = MappingProxyType({"ES": 0.3})

_DEPARTMENTS: Final[Mapping[str, tuple[str, tuple[str, str]]]] = MappingProxyType(
    {
        # department: (title word, (individual contributor titles))
        "sales": ("Sales", ("Account Executive", "Sales Development Representative")),
        "marketing": ("Marketing", ("Marketing Specialist", "Content Marketer")),
        "engineering": ("Engineering", ("Software Engineer", "Data Engineer")),
        "product": ("Product", ("Product Designer", "Product Analyst")),
        "finance": ("Finance", ("Accountant", "Financial Analyst")),
        "operations": ("Operations", ("Operations Analyst", "Logistics Coordinator")),
        "human_resources": ("People", ("Recruiter", "HR Business Partner")),
        "legal": ("Legal", ("Legal Counsel", "Paralegal")),
        "it": ("IT", ("Systems Administrator", "IT Support Engineer")),
        "customer_success": ("Customer Success", ("Customer Success Specialist", "Support Engineer")),
    }
)
_DEPARTMENT_WEIGHTS: Final[Mapping[str, int]] = MappingProxyType({
    "sales": 6, "marketing": 3, "engineering": 6, "product": 2, "finance": 3,
    "operations": 4, "human_resources": 2, "legal": 1, "it": 2, "customer_success": 3,
})  # fmt: skip
_C_LEVEL_TITLES: Final[tuple[tuple[str, str], ...]] = (
    ("Chief Executive Officer", "executive"),
    ("Chief Financial Officer", "finance"),
    ("Chief Technology Officer", "engineering"),
    ("Chief Operating Officer", "operations"),
    ("Chief Marketing Officer", "marketing"),
    ("Chief Revenue Officer", "sales"),
    ("Chief People Officer", "human_resources"),
    ("Chief Information Officer", "it"),
    ("General Counsel", "legal"),
)
_SENIORITY_RANK: Final[Mapping[str, int]] = MappingProxyType({name: rank for rank, name in enumerate(SENIORITIES)})
# Small firms are top-heavy: a ten-person company has a founder or two for every few employees.
_SENIORITY_WEIGHTS_SMALL: Final = (0.20, 0.25, 0.20, 0.15, 0.05, 0.15)
_SENIORITY_WEIGHTS: Final = (0.25, 0.28, 0.25, 0.14, 0.06, 0.02)

_ROLE_LOCAL_PARTS: Final = frozenset(
    "sales info support hello contact office admin marketing press careers jobs hr finance accounts "
    "billing legal it team".split()
)
_DEPARTMENT_ROLE_ADDRESSES: Final[Mapping[str, str]] = MappingProxyType({
    "sales": "sales", "marketing": "marketing", "engineering": "team", "product": "hello", "finance": "accounts",
    "operations": "office", "human_resources": "careers", "legal": "legal", "it": "it", "customer_success": "support",
    "executive": "info",
})  # fmt: skip

# Domains with mail hosts that are not company domains. mx_hosts() returns a synthetic host for them.
_FREE_MAIL_DOMAINS: Final = frozenset(
    "gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com yahoo.com yahoo.co.uk icloud.com "
    "me.com aol.com proton.me protonmail.com gmx.de gmx.net web.de t-online.de orange.fr free.fr laposte.net "
    "libero.it btinternet.com comcast.net".split()
)

_LineType = Literal["mobile", "fixed_line", "fixed_line_or_mobile", "voip", "toll_free"]
# Per country: (line type, share of that country's phones, E.164 templates whose "x" become random digits).
# Every template was checked exhaustively or by sampling against libphonenumber 9.0 for validity and type.
_US_AREA_CODES: Final = (
    201, 202, 206, 210, 212, 214, 215, 303, 305, 312, 313, 404, 412, 415, 480, 503,
    512, 602, 612, 615, 617, 619, 646, 702, 704, 713, 720, 818, 917, 919,
)  # fmt: skip
_CA_AREA_CODES: Final = (204, 306, 403, 416, 506, 514, 604, 613, 647, 780, 902, 905)
_NANP_TOLL_FREE: Final = ("+180055501xx", "+188855501xx", "+187755501xx")
_GB_DRAMA_AREA_CODES: Final = (113, 114, 116, 117, 118, 121, 131, 141, 151, 161)
_PHONE_PLANS: Final[Mapping[str, tuple[tuple[_LineType, float, tuple[str, ...]], ...]]] = MappingProxyType(
    {
        "US": (
            ("fixed_line_or_mobile", 0.95, tuple(f"+1{code}55501xx" for code in _US_AREA_CODES)),
            ("toll_free", 0.05, _NANP_TOLL_FREE),
        ),
        "CA": (
            ("fixed_line_or_mobile", 0.90, tuple(f"+1{code}55501xx" for code in _CA_AREA_CODES)),
            ("voip", 0.06, ("+160055501xx",)),
            ("toll_free", 0.04, _NANP_TOLL_FREE),
        ),
        "GB": (
            ("fixed_line", 0.45, ("+442079460xxx", *(f"+44{code}4960xxx" for code in _GB_DRAMA_AREA_CODES))),
            ("mobile", 0.45, ("+447400123xxx", "+447400900xxx")),
            ("voip", 0.06, ("+44561234xxxx",)),
            ("toll_free", 0.04, ("+448081570xxx",)),
        ),
        "IE": (
            ("fixed_line", 0.45, ("+35312345xxx",)),
            ("mobile", 0.50, ("+35385123xxxx",)),
            ("voip", 0.03, ("+35376123xxxx",)),
            ("toll_free", 0.02, ("+3531800123xxx",)),
        ),
        "DE": (
            ("fixed_line", 0.45, ("+493023125xxx", "+494066969xxx", "+496990009xxx", "+498999998xxx")),
            ("mobile", 0.50, ("+4915228817xxx", "+4915123456xxx", "+4917612345xxx")),
            ("toll_free", 0.05, ("+49800123xxxx",)),
        ),
        "FR": (
            ("fixed_line", 0.45, ("+3319900xxxx", "+3326191xxxx", "+3335301xxxx", "+3346571xxxx", "+3353649xxxx")),
            ("mobile", 0.45, ("+3361234xxxx", "+3375750xxxx")),
            ("voip", 0.06, ("+3393901xxxx",)),
            ("toll_free", 0.04, ("+33805123xxx",)),
        ),
        "ES": (
            ("fixed_line", 0.40, ("+34810123xxx", "+3491xxxxxxx")),
            ("mobile", 0.55, ("+346123xxxxx",)),
            ("toll_free", 0.05, ("+34800123xxx",)),
        ),
        "NO": (
            ("fixed_line", 0.35, ("+472123xxxx", "+4722xxxxxx")),
            ("mobile", 0.55, ("+4740612xxx", "+479xxxxxxx")),
            ("voip", 0.06, ("+4785012xxx",)),
            ("toll_free", 0.04, ("+4780012xxx",)),
        ),
        "SE": (
            ("fixed_line", 0.40, ("+4681234xxxx", "+46313xxxxxx")),
            ("mobile", 0.55, ("+4670123xxxx",)),
            ("toll_free", 0.05, ("+4620123xxx",)),
        ),
        "NL": (
            ("fixed_line", 0.40, ("+3110123xxxx", "+3120xxxxxxx")),
            ("mobile", 0.50, ("+3161234xxxx",)),
            ("voip", 0.06, ("+3185123xxxx",)),
            ("toll_free", 0.04, ("+31800xxxx",)),
        ),
        "IT": (
            ("fixed_line", 0.40, ("+390212345xxx",)),
            ("mobile", 0.50, ("+39312345xxxx",)),
            ("voip", 0.06, ("+395512345xxx",)),
            ("toll_free", 0.04, ("+39800123xxx",)),
        ),
        "AU": (
            ("fixed_line", 0.40, ("+6125550xxxx", "+6135550xxxx", "+6175550xxxx", "+6185550xxxx")),
            ("mobile", 0.50, ("+6149157xxxx",)),
            ("voip", 0.06, ("+61147101xxx",)),
            ("toll_free", 0.04, ("+6118009757xx",)),
        ),
        "JP": (
            ("fixed_line", 0.40, ("+81312345xxx",)),
            ("mobile", 0.50, ("+8190123xxxxx",)),
            ("voip", 0.06, ("+81501234xxxx",)),
            ("toll_free", 0.04, ("+81120123xxx",)),
        ),
    }
)
_PHONE_TYPE_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        PhoneNumberType.FIXED_LINE: "fixed_line",
        PhoneNumberType.MOBILE: "mobile",
        PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
        PhoneNumberType.TOLL_FREE: "toll_free",
        PhoneNumberType.PREMIUM_RATE: "premium_rate",
        PhoneNumberType.SHARED_COST: "shared_cost",
        PhoneNumberType.VOIP: "voip",
        PhoneNumberType.PERSONAL_NUMBER: "personal_number",
        PhoneNumberType.PAGER: "pager",
        PhoneNumberType.UAN: "uan",
        PhoneNumberType.VOICEMAIL: "voicemail",
    }
)
_MOBILE_CAPABLE: Final = frozenset({"mobile", "fixed_line_or_mobile"})

_PHONE_RATE: Final = 0.70
_MOVED_RATE: Final = 0.08
_ROLE_EMAIL_RATE: Final = 0.10
_PRIMARY_OFFICE_SHARE: Final = 0.60
_VANITY_SLUG_RATE: Final = 0.20
# Shares of current addresses, on domains that reject unknown recipients, that a verifier finds invalid
# (mailbox closed) or cannot decide.
_INVALID_EMAIL_RATE: Final = 0.05
_UNKNOWN_EMAIL_RATE: Final = 0.02
# People per company, relative, by size band. A company never gets more people than it has employees.
_PEOPLE_WEIGHT_BY_BAND: Final[Mapping[str, int]] = MappingProxyType({
    "1-10": 4, "11-50": 10, "51-200": 22, "201-1000": 34, "1001-5000": 48, "5001+": 90,
})  # fmt: skip

# Junior staff leave fewer public traces: this share of each seniority is "low profile", and every
# provider's email probability for them is multiplied by the factor. Without it the union of all providers
# would pass 90%. With it, some people stay out of every provider's reach, as with real vendors.
_LOW_PROFILE_RATES: Final[Mapping[str, float]] = MappingProxyType({
    "entry": 0.40, "senior": 0.22, "manager": 0.08, "director": 0.05, "vp": 0.05, "c_level": 0.03,
})  # fmt: skip
_LOW_PROFILE_EMAIL_FACTOR: Final = 0.15

# Share of moved people whose old record each provider still returns.
_STALE_RATES: Final[Mapping[str, float]] = MappingProxyType({
    "hunter": 0.25, "prospeo": 0.30, "peopledatalabs": 0.55, "apollo": 0.40,
    "leadmagic": 0.15, "findymail": 0.10, "lusha": 0.30,
})  # fmt: skip


# ----------------------------------------------------------------------------------------------------------------
# Folding for lookups
# ----------------------------------------------------------------------------------------------------------------

_NON_ALNUM: Final = re.compile(r"[^a-z0-9]+")
_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.-]*://")
_LINKEDIN_PROFILE: Final = re.compile(r"(?:^|[/.])linkedin\.com/in/([^/?#\s]+)")
_BARE_SLUG: Final = re.compile(r"[a-z0-9%_-]+")
_MAX_LOOKUP_LENGTH: Final = 2048
# Whitespace, brackets, quotes, byte-order marks and zero-width characters that pasted values carry.
_SURROUNDING: Final = " \t\r\n<>\"'`\ufeff\u200b\u200c\u200d\u2060"


def _fold(text: str) -> str:
    """Fold to lower-case ASCII letters and digits: "Ødegård" and "o'degard " both give "odegard"."""
    return _NON_ALNUM.sub("", anyascii(text).lower())


def _name_key(first_name: str, last_name: str) -> str:
    return _fold(first_name) + _fold(last_name)


def _company_key(name: str) -> str:
    """Fold a company name and drop trailing legal forms: "Tesco PLC" and "TESCO" give "tesco"."""
    text = anyascii(name).lower().replace("&", " and ")
    text = re.sub(r"[.'`]", "", text)
    tokens = _NON_ALNUM.sub(" ", text).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens.pop(0)
    while len(tokens) > 1 and tokens[-1] in _LEGAL_FORM_WORDS:
        tokens.pop()
    return "".join(tokens)


def _host(value: str) -> str | None:
    """Reduce a domain, URL or address to a lower-case ASCII host name, or None when none is left."""
    text = value.strip(_SURROUNDING).lower()
    if not text or len(text) > _MAX_LOOKUP_LENGTH:
        return None
    text = _SCHEME.sub("", text).lstrip("/")
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rpartition("@")[2]
    text = text.split(":", 1)[0].strip().rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    if not text:
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return text


def _email_parts(address: str) -> tuple[str, str] | None:
    """Split an address into its lower-case local part and ASCII domain, or None when it is malformed."""
    text = address.strip(_SURROUNDING)
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :].strip(_SURROUNDING)
    if not text or len(text) > _MAX_LOOKUP_LENGTH:
        return None
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    host = _host(domain)
    if host is None or "." not in host:
        return None
    return local.lower(), host


def _linkedin_slug(value: str) -> str | None:
    text = value.strip(_SURROUNDING).lower()
    if not text or len(text) > _MAX_LOOKUP_LENGTH:
        return None
    match = _LINKEDIN_PROFILE.search(text)
    if match is not None:
        return unquote(match.group(1)).strip()
    if _BARE_SLUG.fullmatch(text):
        return unquote(text)
    return None


def _phone_key(value: str) -> str | None:
    text = value.strip(_SURROUNDING)
    if not text or len(text) > _MAX_LOOKUP_LENGTH:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except NumberParseException:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _is_disposable(domain: str) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[index:]) in disposable_email_domains.blocklist for index in range(len(labels) - 1))


def _unit_interval(seed: int, *parts: object) -> tuple[float, float, float, float]:
    """Return four independent draws in [0, 1) that depend only on the seed and the parts."""
    digest = _digest(seed, *parts)
    first, second, third, fourth = (
        int.from_bytes(digest[offset : offset + 4], "big") / 2**32 for offset in (0, 4, 8, 12)
    )
    return first, second, third, fourth


# ----------------------------------------------------------------------------------------------------------------
# Coverage slices
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Profile:
    """Facts about a person that the coverage slices depend on, collected before coverage is attached."""

    person_id: str
    country: str
    company: SandboxCompany
    seniority: str
    has_phone: bool
    line_type: str


# The module docstring's table lists these probabilities, so change both together.
def _email_probability(provider: str, profile: _Profile) -> float:
    company = profile.company
    tech = company.industry in _TECH_INDUSTRIES
    if provider == "hunter":
        in_slice = company.country in _ENGLISH_SPEAKING_MARKETS and company.employees >= 51
        return 0.72 if in_slice else 0.05
    if provider == "prospeo":
        return 0.88 if profile.country in _EU_EEA else 0.05
    if provider == "peopledatalabs":
        return 0.36
    if provider == "apollo":
        if profile.country == "US":
            return 0.90 if tech else 0.75
        return 0.55 if tech else 0.15
    if provider == "leadmagic":
        return 0.70 if tech or company.industry in _FINANCE_INDUSTRIES else 0.10
    if provider == "findymail":
        return 0.65 if 51 <= company.employees <= 5000 else 0.10
    if provider == "lusha":
        return 0.40
    raise ValueError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")


def _phone_probability(provider: str, profile: _Profile) -> float:
    if not profile.has_phone:
        return 0.0
    rank = _SENIORITY_RANK[profile.seniority]
    industry = profile.company.industry
    if provider == "prospeo":
        return 0.35 if profile.country in _EU_EEA and profile.line_type == "mobile" else 0.0
    if provider == "peopledatalabs":
        return 0.55 if rank >= _SENIORITY_RANK["director"] else 0.10
    if provider == "leadmagic":
        focus = industry in _TECH_INDUSTRIES or industry in _FINANCE_INDUSTRIES
        return 0.45 if focus and profile.line_type in _MOBILE_CAPABLE else 0.0
    if provider == "findymail":
        return 0.40 if rank >= _SENIORITY_RANK["manager"] else 0.0
    if provider == "lusha":
        return 0.80 if rank >= _SENIORITY_RANK["manager"] else 0.30
    return 0.0


def _coverage(seed: int, profile: _Profile) -> Mapping[str, frozenset[str]]:
    footprint_draw, _, _, _ = _unit_interval(seed, "footprint", profile.person_id)
    low_profile = footprint_draw < _LOW_PROFILE_RATES[profile.seniority]
    coverage: dict[str, frozenset[str]] = {}
    for provider in PROVIDERS:
        email_draw, phone_draw, _, _ = _unit_interval(seed, "coverage", provider, profile.person_id)
        email_probability = _email_probability(provider, profile)
        if low_profile:
            email_probability *= _LOW_PROFILE_EMAIL_FACTOR
        fields: set[str] = set()
        if email_draw < email_probability:
            fields.add("email")
        if phone_draw < _phone_probability(provider, profile):
            fields.add("phone")
        coverage[provider] = frozenset(fields)
    return MappingProxyType(coverage)


# ----------------------------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """A person's identity before the order-dependent facts (id, addresses, phone) are assigned."""

    company: SandboxCompany
    country: str
    first_name: str
    last_name: str
    seniority: str
    department: str
    title: str
    previous_company: SandboxCompany | None = None


def _allocate(total: int, companies: Sequence[SandboxCompany], dissolved: frozenset[str]) -> list[int]:
    """Split ``total`` people over the live companies by size band, capped at each one's headcount."""
    weights = [0 if company.id in dissolved else _PEOPLE_WEIGHT_BY_BAND[company.size_band] for company in companies]
    caps = [0 if company.id in dissolved else company.employees for company in companies]
    weight_sum = sum(weights)
    counts = [min(cap, total * weight // weight_sum) for cap, weight in zip(caps, weights, strict=True)]
    order = sorted(range(len(companies)), key=lambda index: (-weights[index], index))
    remaining = total - sum(counts)
    while remaining > 0:
        for index in order:
            if remaining == 0:
                break
            if counts[index] < caps[index]:
                counts[index] += 1
                remaining -= 1
    return counts


class _Generator:
    """Draw a directory's people from one ``random.Random(seed)`` stream, in a fixed order."""

    def __init__(self, seed: int, companies: tuple[SandboxCompany, ...], dissolved: frozenset[str]) -> None:
        self._seed = seed
        self._rng = random.Random(seed)  # noqa: S311 -- synthetic test data, reproducible by design
        self._companies = companies
        self._dissolved = dissolved
        self._names_at_company: defaultdict[str, set[str]] = defaultdict(set)
        self._names_anywhere: set[str] = set()
        self._local_parts: defaultdict[str, set[str]] = defaultdict(set)
        self._slugs: set[str] = set()
        self._phones: set[str] = set()

    def people(self, total: int) -> tuple[SandboxPerson, ...]:
        drafts = self._drafts(total)
        self._move_some(drafts)
        self._rng.shuffle(drafts)
        return tuple(self._person(index, draft) for index, draft in enumerate(drafts, start=1))

    def _drafts(self, total: int) -> list[_Draft]:
        counts = _allocate(total, self._companies, self._dissolved)
        offices = _company_offices()
        drafts: list[_Draft] = []
        for company, count in zip(self._companies, counts, strict=True):
            countries = (company.country, *offices[company.domain])
            c_level_left = list(_C_LEVEL_TITLES)
            for _ in range(count):
                country = company.country
                if len(countries) > 1 and self._rng.random() >= _PRIMARY_OFFICE_SHARE:
                    country = self._rng.choice(countries[1:])
                first_name, last_name = self._name(country, company)
                seniority, department, title = self._role(company, c_level_left)
                drafts.append(_Draft(company, country, first_name, last_name, seniority, department, title))
        return drafts

    def _name(self, country: str, company: SandboxCompany) -> tuple[str, str]:
        given_names = _GIVEN_NAMES[country]
        family = _FAMILY_NAMES[country]
        double_rate = _DOUBLE_FAMILY_NAME_RATE.get(country, 0.0)
        names_at_company = self._names_at_company[company.id]
        # Prefer names that are unique in the whole directory, so that a name-only lookup finds one person.
        # After 40 draws, a name unique at the company is enough.
        for attempt in range(200):
            first_name = self._rng.choice(given_names)
            last_name = self._rng.choice(family)
            if self._rng.random() < double_rate:
                last_name = f"{last_name} {self._rng.choice(family)}"
            key = _name_key(first_name, last_name)
            if key in names_at_company or (attempt < 40 and key in self._names_anywhere):
                continue
            names_at_company.add(key)
            self._names_anywhere.add(key)
            return first_name, last_name
        raise RuntimeError(f"name pool for {country} exhausted at {company.domain}; generate fewer people")

    def _role(self, company: SandboxCompany, c_level_left: list[tuple[str, str]]) -> tuple[str, str, str]:
        weights = _SENIORITY_WEIGHTS_SMALL if company.employees <= 50 else _SENIORITY_WEIGHTS
        seniority = self._rng.choices(SENIORITIES, weights)[0]
        if seniority == "c_level":
            if c_level_left:
                # Each chief title exists once per company, the chief executive first.
                title, department = c_level_left.pop(0)
                return seniority, department, title
            seniority = "vp"
        department = self._rng.choices(tuple(_DEPARTMENT_WEIGHTS), tuple(_DEPARTMENT_WEIGHTS.values()))[0]
        word, individual_titles = _DEPARTMENTS[department]
        if seniority == "vp":
            return seniority, department, f"VP {word}"
        if seniority == "director":
            return seniority, department, self._rng.choice((f"Director of {word}", f"Head of {word}"))
        if seniority == "manager":
            return seniority, department, f"{word} Manager"
        title = self._rng.choice(individual_titles)
        return seniority, department, f"Senior {title}" if seniority == "senior" else title

    def _move_some(self, drafts: list[_Draft]) -> None:
        """Give about 8% of people a previous employer, a few of them at each dissolved company."""
        if not drafts:
            return
        earlier_employers = [
            company for company in self._companies if company.id not in self._dissolved and not company.catch_all
        ]
        dissolved = [company for company in self._companies if company.id in self._dissolved]
        movers = self._rng.sample(range(len(drafts)), k=max(1, round(len(drafts) * _MOVED_RATE)))
        alumni_per_company = max(1, len(drafts) // 600)
        for position, index in enumerate(movers):
            draft = drafts[index]
            slot = position // alumni_per_company
            previous = dissolved[slot] if slot < len(dissolved) else self._rng.choice(earlier_employers)
            key = _name_key(draft.first_name, draft.last_name)
            if previous.id == draft.company.id or key in self._names_at_company[previous.id]:
                continue
            self._names_at_company[previous.id].add(key)
            draft.previous_company = previous

    def _person(self, index: int, draft: _Draft) -> SandboxPerson:
        person_id = f"p-{index:05d}"
        company = draft.company
        email = self._address(draft.first_name, draft.last_name, company)
        phone, line_type = self._phone(draft.country) if self._rng.random() < _PHONE_RATE else (None, "unknown")
        role_email = None
        if company.mx_hosts and self._rng.random() < _ROLE_EMAIL_RATE:
            role_email = f"{_DEPARTMENT_ROLE_ADDRESSES[draft.department]}@{company.domain}"
        stale_email = None
        if draft.previous_company is not None:
            stale_email = self._address(draft.first_name, draft.last_name, draft.previous_company)
        profile = _Profile(person_id, draft.country, company, draft.seniority, phone is not None, line_type)
        return SandboxPerson(
            id=person_id,
            first_name=draft.first_name,
            last_name=draft.last_name,
            full_name=f"{draft.first_name} {draft.last_name}",
            title=draft.title,
            seniority=draft.seniority,
            department=draft.department,
            company=company,
            country=draft.country,
            linkedin_slug=self._slug(draft.first_name, draft.last_name, person_id),
            email=email,
            email_status=self._email_status(company),
            role_email=role_email,
            phone_e164=phone,
            phone_line_type=line_type,
            previous_company=draft.previous_company,
            stale_email=stale_email,
            coverage=_coverage(self._seed, profile),
        )

    def _address(self, first_name: str, last_name: str, company: SandboxCompany) -> str:
        first = _fold(first_name)
        last = _fold(last_name)
        local = company.email_pattern.format(first=first, last=last, f=first[:1], l=last[:1])
        used_local_parts = self._local_parts[company.domain]
        candidate = local
        suffix = 2
        while candidate in used_local_parts or candidate in _ROLE_LOCAL_PARTS:
            candidate = f"{local}{suffix}"
            suffix += 1
        used_local_parts.add(candidate)
        return f"{candidate}@{company.domain}"

    def _email_status(self, company: SandboxCompany) -> MailboxStatus:
        if not company.mx_hosts:
            return "invalid"
        if company.catch_all:
            return "catch_all"
        draw = self._rng.random()
        if draw < _INVALID_EMAIL_RATE:
            return "invalid"
        if draw < _INVALID_EMAIL_RATE + _UNKNOWN_EMAIL_RATE:
            return "unknown"
        return "valid"

    def _slug(self, first_name: str, last_name: str, person_id: str) -> str:
        # LinkedIn drops apostrophes and turns other punctuation into hyphens: "Seán O'Brien" -> "sean-obrien".
        text = re.sub(r"['`]", "", anyascii(f"{first_name} {last_name}").lower())
        base = "-".join(_NON_ALNUM.sub(" ", text).split())
        if self._rng.random() < _VANITY_SLUG_RATE and base not in self._slugs:
            self._slugs.add(base)
            return base
        for attempt in range(100):
            slug = f"{base}-{_digest('slug', self._seed, person_id, attempt).hex()[:8]}"
            if slug not in self._slugs:
                self._slugs.add(slug)
                return slug
        raise RuntimeError(f"no unused LinkedIn slug for {person_id}")

    def _phone(self, country: str) -> tuple[str, str]:
        plan = _PHONE_PLANS[country]
        line_type, _, templates = self._rng.choices(plan, [share for _, share, _ in plan])[0]
        for _ in range(100):
            template = self._rng.choice(templates)
            digits = "".join(str(self._rng.randrange(10)) for _ in range(template.count("x")))
            e164 = template.replace("x" * len(digits), digits)
            if e164 in self._phones:
                continue
            # The wide templates were checked by sampling only, so a rare invalid number is skipped.
            number = phonenumbers.parse(e164, None)
            if not phonenumbers.is_valid_number_for_region(number, country):
                continue
            if _PHONE_TYPE_NAMES.get(phonenumbers.number_type(number)) != line_type:
                continue
            self._phones.add(e164)
            return e164, line_type
        raise RuntimeError(f"no unused valid {line_type} number left in the {country} templates; generate fewer people")


# ----------------------------------------------------------------------------------------------------------------
# Directory
# ----------------------------------------------------------------------------------------------------------------


class Directory:
    """People and companies with O(1) lookups, as every sandbox vendor and verifier reads them.

    Name, domain, address, phone and LinkedIn lookups ignore case, accents, punctuation and whitespace.
    Company names also ignore legal forms ("Tesco PLC" finds "Tesco").
    """

    __slots__ = (
        "_by_email",
        "_by_id",
        "_by_name",
        "_by_name_company",
        "_by_name_previous",
        "_by_phone",
        "_by_reversed_name_company",
        "_by_slug",
        "_by_stale_email",
        "_companies_by_domain",
        "_companies_by_key",
        "_dissolved",
        "companies",
        "people",
        "seed",
    )

    def __init__(
        self,
        seed: int,
        companies: Sequence[SandboxCompany],
        people: Sequence[SandboxPerson],
        *,
        dissolved: Iterable[str] = (),
    ) -> None:
        self.seed = seed
        self.companies = tuple(companies)
        self.people = tuple(people)
        self._dissolved = frozenset(dissolved)
        self._companies_by_domain: dict[str, SandboxCompany] = {}
        self._companies_by_key: defaultdict[str, list[SandboxCompany]] = defaultdict(list)
        self._index_companies()
        self._by_id: dict[str, SandboxPerson] = {}
        self._by_name: defaultdict[str, list[SandboxPerson]] = defaultdict(list)
        self._by_name_company: dict[tuple[str, str], SandboxPerson] = {}
        self._by_reversed_name_company: dict[tuple[str, str], SandboxPerson] = {}
        self._by_name_previous: dict[tuple[str, str], SandboxPerson] = {}
        self._by_email: dict[str, SandboxPerson] = {}
        self._by_stale_email: dict[str, SandboxPerson] = {}
        self._by_slug: dict[str, SandboxPerson] = {}
        self._by_phone: dict[str, SandboxPerson] = {}
        for person in self.people:
            self._index_person(person)

    @classmethod
    def generate(cls, seed: int = DEFAULT_SEED, people: int = DEFAULT_PEOPLE) -> Directory:
        """Generate the directory for ``seed``; equal seeds and sizes give equal directories."""
        if not 1 <= people <= MAX_PEOPLE:
            raise ValueError(f"people={people} is out of range; send a count from 1 to {MAX_PEOPLE}")
        companies, dissolved = _companies()
        generated = _Generator(seed, companies, dissolved).people(people)
        return cls(seed, companies, generated, dissolved=dissolved)

    def _index_companies(self) -> None:
        aliases = _company_aliases()
        for company in self.companies:
            if company.domain in self._companies_by_domain:
                raise ValueError(f"two companies use the domain {company.domain}; give each company its own")
            self._companies_by_domain[company.domain] = company
            keys = {_company_key(company.name), _company_key(company.legal_name)}
            keys.update(_company_key(alias) for alias in aliases.get(company.domain, ()))
            for key in keys:
                self._companies_by_key[key].append(company)

    def _index_person(self, person: SandboxPerson) -> None:
        unique_indexes: tuple[tuple[dict[str, SandboxPerson], str | None, str], ...] = (
            (self._by_id, person.id, "id"),
            (self._by_email, person.email, "email"),
            (self._by_slug, person.linkedin_slug, "LinkedIn slug"),
            (self._by_phone, person.phone_e164, "phone number"),
            (self._by_stale_email, person.stale_email, "stale email"),
        )
        for index, value, label in unique_indexes:
            if value is None:
                continue
            if value in index:
                raise ValueError(f"{person.id} repeats the {label} {value!r} of {index[value].id}")
            index[value] = person
        key = _name_key(person.first_name, person.last_name)
        at_company = (key, person.company.id)
        if at_company in self._by_name_company:
            raise ValueError(f"{person.id} has the same name as another person at {person.company.domain}")
        self._by_name[key].append(person)
        self._by_name_company[at_company] = person
        self._by_reversed_name_company[(_name_key(person.last_name, person.first_name), person.company.id)] = person
        if person.previous_company is not None:
            self._by_name_previous[(key, person.previous_company.id)] = person

    # Lookups -----------------------------------------------------------------------------------------------

    def person(self, person_id: str) -> SandboxPerson | None:
        return self._by_id.get(person_id.strip())

    def match_name(
        self,
        first_name: str,
        last_name: str,
        *,
        domain: str | None = None,
        company_name: str | None = None,
    ) -> SandboxPerson | None:
        """Find the person with this name at the company given by domain or name.

        A current employee wins over someone who has left the company. Without a domain or company name,
        the name alone must identify exactly one current employee anywhere in the directory.
        """
        return self._match_key(_name_key(first_name, last_name), None, domain, company_name)

    def match_full_name(
        self,
        full_name: str,
        *,
        domain: str | None = None,
        company_name: str | None = None,
    ) -> SandboxPerson | None:
        """Find a person by full name, as ``match_name`` does.

        "Last, First" is read as First Last, and a name in family-name-first order matches too.
        """
        family_name, comma, given_name = full_name.partition(",")
        text = f"{given_name} {family_name}" if comma else full_name
        key = _fold(text)
        return self._match_key(key, key, domain, company_name)

    def _match_key(
        self,
        key: str,
        reversed_key: str | None,
        domain: str | None,
        company_name: str | None,
    ) -> SandboxPerson | None:
        if not key:
            return None
        if domain is None and company_name is None:
            found = self._by_name.get(key, [])
            return found[0] if len(found) == 1 else None
        candidates = self._companies_for(domain, company_name)
        for company in candidates:
            person = self._by_name_company.get((key, company.id))
            if person is None and reversed_key is not None:
                person = self._by_reversed_name_company.get((reversed_key, company.id))
            if person is not None:
                return person
        for company in candidates:
            person = self._by_name_previous.get((key, company.id))
            if person is not None:
                return person
        return None

    def _companies_for(self, domain: str | None, company_name: str | None) -> list[SandboxCompany]:
        found: list[SandboxCompany] = []
        if domain is not None:
            company = self.company_by_domain(domain)
            if company is not None:
                found.append(company)
        if company_name is not None and len(company_name) <= _MAX_LOOKUP_LENGTH:
            found.extend(self._companies_by_key.get(_company_key(company_name), ()))
        return found

    def match_linkedin(self, url_or_slug: str) -> SandboxPerson | None:
        """Find a person by profile URL ("https://www.linkedin.com/in/slug", "linkedin.com/in/slug") or slug."""
        slug = _linkedin_slug(url_or_slug)
        return None if slug is None else self._by_slug.get(slug)

    def match_email(self, address: str) -> SandboxPerson | None:
        """Find a person by current work address, or else by the stale address at their old employer."""
        parts = _email_parts(address)
        if parts is None:
            return None
        normalised = f"{parts[0]}@{parts[1]}"
        return self._by_email.get(normalised) or self._by_stale_email.get(normalised)

    def match_phone(self, e164: str) -> SandboxPerson | None:
        """Find a person by direct dial. Any punctuation is accepted, and the number must be international."""
        key = _phone_key(e164)
        return None if key is None else self._by_phone.get(key)

    def company_by_domain(self, domain: str) -> SandboxCompany | None:
        """Find a company by domain, website URL or address; subdomains ("uk.tesco.com") find their parent."""
        host = _host(domain)
        if host is None:
            return None
        labels = host.split(".")
        for index in range(len(labels) - 1):
            company = self._companies_by_domain.get(".".join(labels[index:]))
            if company is not None:
                return company
        return None

    def is_dissolved(self, company: SandboxCompany) -> bool:
        """Return whether the company has been dissolved. A dissolved company has no current employees or MX hosts."""
        return company.id in self._dissolved

    # Verifier facts ----------------------------------------------------------------------------------------

    def mailbox_status(self, address: str) -> MailboxStatus:
        """Return the mailbox status that an email verifier would report for ``address``.

        The checks run in this order: malformed -> "invalid"; disposable domain -> "disposable"; a
        person's current address -> their ``email_status``; a stale address -> "invalid"; free-mail or
        unknown domain -> "unknown"; a company domain without MX hosts -> "invalid"; a catch-all
        company domain -> "catch_all"; a role address (sales@, info@) -> "valid"; anything else at a
        company domain -> "invalid".
        """
        parts = _email_parts(address)
        if parts is None:
            return "invalid"
        local, domain = parts
        if _is_disposable(domain):
            return "disposable"
        normalised = f"{local}@{domain}"
        person = self._by_email.get(normalised)
        if person is not None:
            return person.email_status
        if normalised in self._by_stale_email:
            return "invalid"
        company = self._companies_by_domain.get(domain)
        if company is None:
            return "unknown"
        if not company.mx_hosts:
            return "invalid"
        if company.catch_all:
            return "catch_all"
        if local in _ROLE_LOCAL_PARTS:
            return "valid"
        return "invalid"

    def mx_hosts(self, domain: str) -> tuple[str, ...]:
        """Return the domain's MX hosts: a company's own, synthetic ones for free-mail and disposable domains."""
        host = _host(domain)
        if host is None:
            return ()
        company = self._companies_by_domain.get(host)
        if company is not None:
            return company.mx_hosts
        if host in _FREE_MAIL_DOMAINS or _is_disposable(host):
            return (f"mx1.{host}", f"mx2.{host}")
        return ()

    # Provider slices ---------------------------------------------------------------------------------------

    def knows(self, provider: str, person: SandboxPerson, field: str) -> bool:
        """Return whether ``provider`` can return ``field`` ("email" or "phone") for ``person``."""
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}; use 'email' or 'phone'")
        return field in person.coverage.get(provider, frozenset())

    def returns_stale(self, provider: str, person: SandboxPerson) -> bool:
        """Return whether ``provider`` still has the person's old record, with ``stale_email``."""
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
        if person.previous_company is None:
            return False
        _, _, stale_draw, _ = _unit_interval(self.seed, "coverage", provider, person.id)
        return stale_draw < _STALE_RATES[provider]


@functools.cache
def default_directory() -> Directory:
    """Return the seed-7 directory of 2,400 people, generated once per process."""
    return Directory.generate(DEFAULT_SEED, DEFAULT_PEOPLE)
