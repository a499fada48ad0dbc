"""Split company names into base name, legal form and status hints for registry matching.

A trailing legal form is recognised in any of its usual spellings, with or without dots
and spaces: "P.L.C.", "plc" and "Public Limited Company" are all PLC, "G M B H" is GmbH.
The longest compound wins, so "GmbH & Co. KG" is a limited partnership and not a GmbH.
The base name and ``match_key`` leave the legal form out, so compare two companies by
``match_key`` first and then by ``legal_forms_equivalent``.

A leading Japanese legal form ("株式会社ソニー") is recognised too. Other leading forms,
such as Indonesian "PT" or Russian "OOO", are not.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

from cascade.normalise.notes import Note, flagged, rejected


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company name split for display and registry matching."""

    display: str
    base: str
    legal_form: str | None
    legal_form_kind: str | None
    jurisdictions: tuple[str, ...]
    hints: tuple[str, ...]
    match_key: str
    notes: tuple[Note, ...]


CORPORATION = "corporation"
PRIVATE_LIMITED = "private_limited"
PUBLIC_LIMITED = "public_limited"
LIMITED_LIABILITY_COMPANY = "limited_liability_company"
LIMITED_PARTNERSHIP = "limited_partnership"
GENERAL_PARTNERSHIP = "general_partnership"
LIMITED_LIABILITY_PARTNERSHIP = "limited_liability_partnership"
SOLE_PROPRIETORSHIP = "sole_proprietorship"
COOPERATIVE = "cooperative"
UNLIMITED_COMPANY = "unlimited_company"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class _LegalForm:
    """One legal form and the spellings that name it.

    ``strict`` marks forms whose abbreviation is also an everyday word or abbreviation
    ("AS", "SpA", "PA"): inside a company name the abbreviation counts only when written
    with dots or in the canonical letter case. ``exact`` lists the only spellings (case-sensitive, spaces
    ignored) that select this form over another one with the same letters.
    """

    canonical: str
    kind: str
    jurisdictions: tuple[str, ...]
    variants: tuple[str, ...] = ()
    strict: bool = False
    exact: tuple[str, ...] = ()


# Spellings of the forms that end longer forms. A longer form lists every spelling of its
# last part, so that re-reading "Quillon Co" + "Ltd" finds the same form as "Quillon Co Limited".
_LTD_SPELLINGS = ("ltd", "limited", "ltée", "limitée", "teoranta", "teo", "cyf", "cyfyngedig")
_CO_SPELLINGS = ("co", "company", "cie", "cia")
_BHD_SPELLINGS = ("bhd", "berhad")
_CV_SPELLINGS = ("cv", "commanditaire vennootschap")
_SPK_SPELLINGS = ("spk", "spółka komandytowa")
_SP_Z_OO_SPELLINGS = ("sp z oo", "spółka z o.o.", "spółka z ograniczoną odpowiedzialnością")


def _joined(firsts: tuple[str, ...], lasts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{first} {last}" for first, last in itertools.product(firsts, lasts))


_EU_AND_EEA = ("AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "NO", "PL", "SE")


def _german_partnership_compounds() -> tuple[_LegalForm, ...]:
    """Build "GmbH & Co. KG" and its relatives: a company as the general partner of a partnership."""
    partners = (
        ("GmbH", ("gmbh", "gesmbh")),
        ("AG", ("ag",)),
        ("SE", ("se",)),
        ("UG (haftungsbeschränkt)", ("ug (haftungsbeschränkt)", "ug (haftungsbeschraenkt)", "ug")),
        ("Ltd.", ("ltd", "limited")),
        ("B.V.", ("bv",)),
        ("Stiftung", ("stiftung",)),
    )
    partnerships = (
        ("KG", ("kg", "kommanditgesellschaft"), LIMITED_PARTNERSHIP, ("DE", "AT")),
        ("KGaA", ("kgaa", "kommanditgesellschaft auf aktien"), LIMITED_PARTNERSHIP, ("DE", "AT")),
        ("OHG", ("ohg", "offene handelsgesellschaft"), GENERAL_PARTNERSHIP, ("DE",)),
    )
    forms: list[_LegalForm] = []
    for (partner, partner_spellings), (partnership, spellings, kind, jurisdictions) in itertools.product(
        partners, partnerships
    ):
        variants = tuple(
            f"{partner_spelling} {conjunction} co {spelling}"
            for partner_spelling, conjunction, spelling in itertools.product(partner_spellings, ("&", "und"), spellings)
        )
        forms.append(_LegalForm(f"{partner} & Co. {partnership}", kind, jurisdictions, variants))
    return tuple(forms)


# Earlier entries win when two forms share a spelling.
_LEGAL_FORMS: tuple[_LegalForm, ...] = (
    *_german_partnership_compounds(),
    # United States, Canada and common-law forms
    _LegalForm("Inc.", CORPORATION, ("US", "CA", "ZA"), ("inc", "incorporated", "incorporée")),
    _LegalForm("Corp.", CORPORATION, ("US", "CA"), ("corp", "corporation")),
    _LegalForm(
        "LLC",
        LIMITED_LIABILITY_COMPANY,
        ("US",),
        ("llc", *_joined(("limited liability", "ltd liability"), _CO_SPELLINGS)),
    ),
    _LegalForm(
        "PLLC",
        LIMITED_LIABILITY_COMPANY,
        ("US",),
        ("pllc", *_joined(("professional limited liability",), _CO_SPELLINGS)),
    ),
    _LegalForm(
        "LLP",
        LIMITED_LIABILITY_PARTNERSHIP,
        ("US", "GB", "CA", "IN", "SG"),
        ("llp", "limited liability partnership"),
    ),
    _LegalForm("LLLP", LIMITED_PARTNERSHIP, ("US",), ("lllp", "limited liability limited partnership")),
    _LegalForm("LP", LIMITED_PARTNERSHIP, ("US", "GB", "IE", "CA", "SG"), ("lp", "limited partnership")),
    _LegalForm("PC", CORPORATION, ("US",), ("pc", "professional corporation"), strict=True),
    _LegalForm("PA", CORPORATION, ("US",), ("pa", "professional association"), strict=True),
    _LegalForm(
        "Co., Ltd.",
        PRIVATE_LIMITED,
        ("CN", "HK", "JP", "KR", "TW", "TH", "VN", "GB"),
        (
            *_joined(_CO_SPELLINGS, _LTD_SPELLINGS),
            "有限公司",
            "股份有限公司",
            "주식회사",
            "유한회사",
        ),
    ),
    _LegalForm("Co.", OTHER, (), _CO_SPELLINGS),
    # NOTE: the kind is the British, Irish and New Zealand reading. In Australia, India and
    # Singapore a plain "Ltd" is a public company, which this table cannot tell apart.
    _LegalForm(
        "Ltd",
        PRIVATE_LIMITED,
        ("GB", "IE", "NZ", "CA", "HK", "IN", "SG", "AU", "ZA", "MY"),
        _LTD_SPELLINGS,
    ),
    _LegalForm(
        "PLC",
        PUBLIC_LIMITED,
        ("GB", "IE"),
        (
            "plc",
            *_joined(("public limited", "public ltd"), _CO_SPELLINGS),
            "cpt",
            "cuideachta phoiblí theoranta",
            "ccc",
            "cwmni cyfyngedig cyhoeddus",
        ),
    ),
    _LegalForm("CIC", OTHER, ("GB",), ("cic", *_joined(("community interest",), _CO_SPELLINGS))),
    _LegalForm("Unlimited", UNLIMITED_COMPANY, ("GB", "IE"), ("unlimited",)),
    _LegalForm("ULC", UNLIMITED_COMPANY, ("CA", "IE"), ("ulc", *_joined(("unlimited liability",), _CO_SPELLINGS))),
    _LegalForm("UC", UNLIMITED_COMPANY, ("IE",), ("uc", *_joined(("unlimited",), _CO_SPELLINGS)), strict=True),
    _LegalForm("PUC", UNLIMITED_COMPANY, ("IE",), ("puc", *_joined(("public unlimited",), _CO_SPELLINGS))),
    _LegalForm("DAC", PRIVATE_LIMITED, ("IE",), ("dac", *_joined(("designated activity",), _CO_SPELLINGS))),
    _LegalForm("CLG", PRIVATE_LIMITED, ("IE",), ("clg", "company limited by guarantee")),
    # Australia, South Africa, India, Singapore, Malaysia
    _LegalForm(
        "Pty Ltd",
        PRIVATE_LIMITED,
        ("AU",),
        ("pty", *_joined(("pty", "proprietary"), _LTD_SPELLINGS)),
    ),
    _LegalForm("(Pty) Ltd", PRIVATE_LIMITED, ("ZA",), ("(pty)", *_joined(("(pty)", "(proprietary)"), _LTD_SPELLINGS))),
    _LegalForm(
        "Pvt Ltd",
        PRIVATE_LIMITED,
        ("IN",),
        (
            "pvt",
            *_joined(
                ("pvt", "private", "(p)", "p", "(opc) private", "(opc) pvt", "opc private", "opc pvt"),
                _LTD_SPELLINGS,
            ),
        ),
    ),
    _LegalForm("Pte Ltd", PRIVATE_LIMITED, ("SG",), ("pte", *_joined(("pte",), _LTD_SPELLINGS))),
    _LegalForm("Sdn Bhd", PRIVATE_LIMITED, ("MY",), _joined(("sdn", "sendirian"), _BHD_SPELLINGS)),
    _LegalForm("Bhd", PUBLIC_LIMITED, ("MY",), _BHD_SPELLINGS),
    _LegalForm("PLT", LIMITED_LIABILITY_PARTNERSHIP, ("MY",), ("plt", "perkongsian liabiliti terhad")),
    # Germany, Austria, Switzerland
    _LegalForm(
        "GmbH",
        PRIVATE_LIMITED,
        ("DE", "AT", "CH"),
        ("gmbh", "gesmbh", "gesellschaft mit beschränkter haftung", "gesellschaft mbh"),
    ),
    _LegalForm(
        "gGmbH",
        PRIVATE_LIMITED,
        ("DE",),
        ("ggmbh", "gemeinnützige gmbh", "gemeinnützige gesellschaft mit beschränkter haftung"),
    ),
    _LegalForm(
        "UG (haftungsbeschränkt)",
        PRIVATE_LIMITED,
        ("DE",),
        (
            "ug (haftungsbeschränkt)",
            "ug (haftungsbeschraenkt)",
            "ug haftungsbeschränkt",
            "ug haftungsbeschraenkt",
            "ug (hb)",
            "ug",
        ),
    ),
    _LegalForm("AG", PUBLIC_LIMITED, ("DE", "AT", "CH"), ("ag", "aktiengesellschaft"), strict=True),
    _LegalForm("SE", PUBLIC_LIMITED, _EU_AND_EEA, ("se", "societas europaea"), strict=True),
    _LegalForm("KGaA", LIMITED_PARTNERSHIP, ("DE", "AT"), ("kgaa", "kommanditgesellschaft auf aktien")),
    _LegalForm("KG", LIMITED_PARTNERSHIP, ("DE", "AT"), ("kg", "kommanditgesellschaft")),
    _LegalForm("OHG", GENERAL_PARTNERSHIP, ("DE",), ("ohg", "offene handelsgesellschaft")),
    _LegalForm("OG", GENERAL_PARTNERSHIP, ("AT",), ("og", "offene gesellschaft"), strict=True),
    _LegalForm("GbR", GENERAL_PARTNERSHIP, ("DE",), ("gbr", "gesellschaft bürgerlichen rechts")),
    _LegalForm(
        "PartG mbB",
        LIMITED_LIABILITY_PARTNERSHIP,
        ("DE",),
        ("partg mbb", "partnerschaftsgesellschaft mbb", "partnerschaftsgesellschaft mit beschränkter berufshaftung"),
    ),
    _LegalForm("PartG", GENERAL_PARTNERSHIP, ("DE",), ("partg", "partnerschaftsgesellschaft")),
    _LegalForm(
        "e.K.",
        SOLE_PROPRIETORSHIP,
        ("DE",),
        ("ek", "e.kfm.", "e.kfr.", "eingetragener kaufmann", "eingetragene kauffrau"),
        strict=True,
    ),
    _LegalForm("e.U.", SOLE_PROPRIETORSHIP, ("AT",), ("eu", "eingetragenes unternehmen"), strict=True),
    _LegalForm("eG", COOPERATIVE, ("DE", "AT"), ("eg", "eingetragene genossenschaft"), strict=True),
    _LegalForm("e.V.", OTHER, ("DE", "AT"), ("ev", "eingetragener verein"), strict=True),
    _LegalForm("Sagl", PRIVATE_LIMITED, ("CH",), ("sagl",)),
    # France, Belgium, Luxembourg
    _LegalForm(
        "SARL",
        PRIVATE_LIMITED,
        ("FR", "BE", "CH", "LU"),
        ("sarl", "sàrl", "s.à r.l.", "société à responsabilité limitée"),
    ),
    _LegalForm("EURL", PRIVATE_LIMITED, ("FR",), ("eurl", "entreprise unipersonnelle à responsabilité limitée")),
    # The Italian limited partnership shares its letters with the French SAS, so only its
    # own spelling selects it.
    _LegalForm("S.a.s.", LIMITED_PARTNERSHIP, ("IT",), exact=("S.a.s.",)),
    _LegalForm("SAS", PRIVATE_LIMITED, ("FR",), ("sas", "société par actions simplifiée")),
    _LegalForm("SASU", PRIVATE_LIMITED, ("FR",), ("sasu", "société par actions simplifiée unipersonnelle")),
    _LegalForm(
        "S.A.",
        PUBLIC_LIMITED,
        ("FR", "BE", "CH", "LU", "ES", "PL", "BR", "MX", "PT"),
        (
            "sa",
            "s/a",
            "société anonyme",
            "sociedad anónima",
            "sociedade anônima",
            "sociedade anónima",
            "spółka akcyjna",
        ),
        strict=True,
    ),
    _LegalForm("SCA", LIMITED_PARTNERSHIP, ("FR", "BE", "LU"), ("sca", "société en commandite par actions")),
    _LegalForm("SCS", LIMITED_PARTNERSHIP, ("FR", "BE"), ("scs", "société en commandite simple")),
    _LegalForm(
        "SNC",
        GENERAL_PARTNERSHIP,
        ("FR", "BE", "IT"),
        ("snc", "société en nom collectif", "società in nome collettivo"),
    ),
    _LegalForm("SCOP", COOPERATIVE, ("FR",), ("scop", "société coopérative et participative")),
    _LegalForm("SCI", OTHER, ("FR",), ("sci", "société civile immobilière")),
    _LegalForm("GIE", OTHER, ("FR",), ("gie", "groupement d'intérêt économique")),
    _LegalForm("EIRL", SOLE_PROPRIETORSHIP, ("FR",), ("eirl",)),
    # Italy
    _LegalForm("S.r.l.", PRIVATE_LIMITED, ("IT", "BE"), ("srl", "società a responsabilità limitata")),
    _LegalForm("S.r.l.s.", PRIVATE_LIMITED, ("IT",), ("srls", "società a responsabilità limitata semplificata")),
    _LegalForm("S.p.A.", PUBLIC_LIMITED, ("IT",), ("spa", "società per azioni"), strict=True),
    _LegalForm("S.a.p.a.", LIMITED_PARTNERSHIP, ("IT",), ("sapa", "società in accomandita per azioni")),
    _LegalForm(
        "S.c.r.l.",
        COOPERATIVE,
        ("IT", "BE"),
        ("scrl", "scarl", "società cooperativa a responsabilità limitata"),
    ),
    _LegalForm("Soc. Coop.", COOPERATIVE, ("IT",), ("soc coop", "società cooperativa")),
    # Spain
    _LegalForm(
        "S.L.",
        PRIVATE_LIMITED,
        ("ES",),
        ("sl", "sociedad limitada", "sll", "slne", "sociedad de responsabilidad limitada"),
    ),
    _LegalForm("S.L.U.", PRIVATE_LIMITED, ("ES",), ("slu", "sociedad limitada unipersonal")),
    _LegalForm("S.A.U.", PUBLIC_LIMITED, ("ES",), ("sau", "sociedad anónima unipersonal")),
    _LegalForm("S. Coop.", COOPERATIVE, ("ES",), ("s coop", "sociedad cooperativa"), strict=True),
    # Mexico
    _LegalForm(
        "S.A. de C.V.",
        PUBLIC_LIMITED,
        ("MX",),
        (*_joined(("sa de",), _CV_SPELLINGS), "sociedad anónima de capital variable"),
    ),
    _LegalForm("S.A.B. de C.V.", PUBLIC_LIMITED, ("MX",), _joined(("sab de",), _CV_SPELLINGS)),
    _LegalForm("S.A.P.I. de C.V.", PUBLIC_LIMITED, ("MX",), _joined(("sapi de",), _CV_SPELLINGS)),
    _LegalForm("S. de R.L. de C.V.", LIMITED_LIABILITY_COMPANY, ("MX",), _joined(("s de rl de",), _CV_SPELLINGS)),
    _LegalForm("S. de R.L.", LIMITED_LIABILITY_COMPANY, ("MX",), ("s de rl",)),
    # Brazil and Portugal
    _LegalForm("Ltda", PRIVATE_LIMITED, ("BR", "PT", "CO", "CL"), ("ltda", "limitada", "lda")),
    _LegalForm("EIRELI", PRIVATE_LIMITED, ("BR",), ("eireli",)),
    # Netherlands and Belgium
    _LegalForm(
        "B.V.",
        PRIVATE_LIMITED,
        ("NL", "BE"),
        ("bv", "besloten vennootschap", "besloten vennootschap met beperkte aansprakelijkheid"),
    ),
    _LegalForm("N.V.", PUBLIC_LIMITED, ("NL", "BE"), ("nv", "naamloze vennootschap")),
    _LegalForm("V.O.F.", GENERAL_PARTNERSHIP, ("NL", "BE"), ("vof", "vennootschap onder firma")),
    _LegalForm("C.V.", LIMITED_PARTNERSHIP, ("NL", "BE"), _CV_SPELLINGS),
    _LegalForm("U.A.", COOPERATIVE, ("NL",), ("ua", "coöperatie u.a."), strict=True),
    _LegalForm("BVBA", PRIVATE_LIMITED, ("BE",), ("bvba",)),
    _LegalForm("SPRL", PRIVATE_LIMITED, ("BE",), ("sprl", "société privée à responsabilité limitée")),
    _LegalForm("CommV", LIMITED_PARTNERSHIP, ("BE",), ("commv",)),
    _LegalForm("SComm", LIMITED_PARTNERSHIP, ("BE",), ("scomm",)),
    _LegalForm("VZW", OTHER, ("BE",), ("vzw",)),
    _LegalForm("ASBL", OTHER, ("BE", "LU"), ("asbl",)),
    # Norway, Sweden, Denmark, Finland
    _LegalForm("ASA", PUBLIC_LIMITED, ("NO",), ("asa", "allmennaksjeselskap")),
    _LegalForm("AS", PRIVATE_LIMITED, ("NO",), ("as", "aksjeselskap"), strict=True),
    _LegalForm("ANS", GENERAL_PARTNERSHIP, ("NO",), ("ans", "ansvarlig selskap"), strict=True),
    _LegalForm("DA", GENERAL_PARTNERSHIP, ("NO",), ("da", "selskap med delt ansvar"), strict=True),
    _LegalForm("KS", LIMITED_PARTNERSHIP, ("NO",), ("ks", "kommandittselskap"), strict=True),
    _LegalForm("ENK", SOLE_PROPRIETORSHIP, ("NO",), ("enk", "enkeltpersonforetak")),
    _LegalForm("NUF", OTHER, ("NO",), ("nuf", "norskregistrert utenlandsk foretak")),
    _LegalForm("AB (publ)", PUBLIC_LIMITED, ("SE",), ("ab (publ)", "ab publ", "aktiebolag (publ)")),
    _LegalForm("AB", PRIVATE_LIMITED, ("SE", "FI"), ("ab", "aktiebolag", "aktiebolaget"), strict=True),
    _LegalForm("HB", GENERAL_PARTNERSHIP, ("SE",), ("hb", "handelsbolag"), strict=True),
    _LegalForm("KB", LIMITED_PARTNERSHIP, ("SE",), ("kb", "kommanditbolag"), strict=True),
    _LegalForm("ek. för.", COOPERATIVE, ("SE",), ("ekonomisk förening",)),
    _LegalForm("A/S", PUBLIC_LIMITED, ("DK",), ("a/s", "aktieselskab", "aktieselskabet")),
    _LegalForm("ApS", PRIVATE_LIMITED, ("DK",), ("aps", "anpartsselskab", "anpartsselskabet")),
    _LegalForm("IVS", PRIVATE_LIMITED, ("DK",), ("ivs", "iværksætterselskab")),
    _LegalForm("I/S", GENERAL_PARTNERSHIP, ("DK",), ("i/s", "interessentskab")),
    _LegalForm("K/S", LIMITED_PARTNERSHIP, ("DK",), ("k/s", "kommanditselskab")),
    _LegalForm("P/S", LIMITED_PARTNERSHIP, ("DK",), ("p/s", "partnerselskab")),
    _LegalForm("A.m.b.A.", COOPERATIVE, ("DK",), ("amba", "andelsselskab med begrænset ansvar")),
    _LegalForm("Oyj", PUBLIC_LIMITED, ("FI",), ("oyj", "julkinen osakeyhtiö")),
    _LegalForm("Oy", PRIVATE_LIMITED, ("FI",), ("oy", "osakeyhtiö")),
    _LegalForm("Abp", PUBLIC_LIMITED, ("FI",), ("abp", "publikt aktiebolag")),
    _LegalForm("Ky", LIMITED_PARTNERSHIP, ("FI",), ("ky", "kommandiittiyhtiö")),
    _LegalForm("Ay", GENERAL_PARTNERSHIP, ("FI",), ("ay", "avoin yhtiö"), strict=True),
    _LegalForm("Osk", COOPERATIVE, ("FI",), ("osk", "osuuskunta")),
    _LegalForm("Tmi", SOLE_PROPRIETORSHIP, ("FI",), ("tmi", "toiminimi")),
    # Poland
    _LegalForm("Sp. z o.o. Sp.k.", LIMITED_PARTNERSHIP, ("PL",), _joined(_SP_Z_OO_SPELLINGS, _SPK_SPELLINGS)),
    _LegalForm(
        "Sp. z o.o.",
        PRIVATE_LIMITED,
        ("PL",),
        _SP_Z_OO_SPELLINGS,
    ),
    _LegalForm("Sp.k.", LIMITED_PARTNERSHIP, ("PL",), _SPK_SPELLINGS),
    _LegalForm("S.K.A.", LIMITED_PARTNERSHIP, ("PL",), ("ska", "spółka komandytowo-akcyjna")),
    _LegalForm("Sp.j.", GENERAL_PARTNERSHIP, ("PL",), ("spj", "spółka jawna")),
    _LegalForm("Sp.p.", LIMITED_LIABILITY_PARTNERSHIP, ("PL",), ("spp", "spółka partnerska")),
    # Japan
    _LegalForm(
        "K.K.",
        CORPORATION,
        ("JP",),
        ("kk", "kabushiki kaisha", "kabushiki gaisha", "株式会社"),
    ),
    _LegalForm("G.K.", LIMITED_LIABILITY_COMPANY, ("JP",), ("gk", "godo kaisha", "godo gaisha", "合同会社")),
    _LegalForm("Y.K.", PRIVATE_LIMITED, ("JP",), ("yk", "yugen kaisha", "yugen gaisha", "有限会社")),
    # Cooperatives anywhere
    _LegalForm("Co-op", COOPERATIVE, (), ("co-op", "co-operative", "cooperative")),
)

# Distinct canonical forms that name the same legal form: the US corporation designators,
# "Company Limited" and "Limited", the Japanese kabushiki kaisha and its English rendering,
# and single-member or listed variants of one form.
_EQUIVALENT_FORMS = frozenset(
    frozenset(pair)
    for pair in (
        ("Inc.", "Corp."),
        ("Ltd", "Co., Ltd."),
        ("K.K.", "Co., Ltd."),
        ("Pvt Ltd", "Pte Ltd"),
        ("S.A.", "S.A. de C.V."),
        ("S.A.", "S.A.U."),
        ("S.L.", "S.L.U."),
        ("SAS", "SASU"),
        ("SARL", "EURL"),
        ("S.r.l.", "S.r.l.s."),
        ("GmbH", "gGmbH"),
        ("AB", "AB (publ)"),
    )
)

# Words that can sit in brackets as part of a legal form: "(Pty) Ltd", "AB (publ)".
_LEGAL_FORM_BRACKET_WORDS = frozenset(
    {"pty", "proprietary", "haftungsbeschrankt", "haftungsbeschraenkt", "hb", "publ", "opc", "p"}
)

# Words that may precede "Co" inside a name ("Quill & Co"), so a form right after them stays.
_NAME_CONJUNCTIONS = frozenset({"&", "+", "and", "und", "et", "og", "och", "y"})
_STOPWORDS = frozenset({"the", "a", "an"})

_BRACKETS_RE = re.compile(r"\(([^()\[\]{}]*)\)|\[([^()\[\]{}]*)\]|\{([^()\[\]{}]*)\}")
_STATUS_RE = re.compile(
    r"(?:\s*[-\u2013\u2014,:;]\s*|\s+)(?P<hint>"
    r"(?:in|en|i)\s+(?:(?:members'?|creditors'?)\s+)?(?:voluntary\s+|compulsory\s+)?"
    r"(?:liquidation|administration|receivership|insolvency|insolvenz|liquidazione|liquidaci[oó]n"
    r"|likvidation|likvidasjon|konkurs|faillissement|gr[uü]ndung)"
    r"|i\.\s?l\.|i\.\s?gr\.|i\.\s?g\."
    r"|under\s+(?:avvikling|tvangsavvikling|administration|konkursbehandling)"
    r")\s*$",
    re.IGNORECASE,
)
_SEPARATED_STATUS_RE = re.compile(
    r"\s*[-\u2013\u2014,:;]\s*(?P<hint>dissolved|struck off|liquidated|inactive|defunct|closed|bankrupt"
    r"|insolvent|dormant|ceased trading|in liquidation)\s*$",
    re.IGNORECASE,
)
_TRADING_AS_RE = re.compile(
    r"\s+(?P<hint>(?:t/a|d/b/a|dba|trading as|doing business as|a/k/a|f/k/a|fka|formerly known as"
    r"|formerly)\s+(?P<name>\S.*))$",
    re.IGNORECASE,
)
# Control characters, which _clean removes from every input before hints are extracted.
_OPEN_PLACEHOLDER = "\x00"
_CLOSE_PLACEHOLDER = "\x01"
_TRAILING_SEPARATORS = " ,;:-\u2013\u2014/"
# Zero-width joiners shape Indic and Persian script, so they stay. Other format characters go.
_KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
_OUTER_PAIRS = {'"': '"', "'": "'", "\u201c": "\u201d", "\u201e": "\u201c", "\u2018": "\u2019", "«": "»"}
# Scripts from CJK onwards are matched spelling by spelling, not through ASCII transliteration,
# so that a Chinese word whose pinyin happens to read "kg" is not a legal form.
_FIRST_CJK_CODE_POINT = 0x2E80


@dataclass(frozen=True, slots=True)
class _FormIndex:
    # Each squashed spelling maps to the forms it names, each with the squashed words of that spelling.
    by_squashed: dict[str, tuple[tuple[_LegalForm, tuple[str, ...]], ...]]
    by_spelling: dict[str, _LegalForm]
    max_squashed_length: int


def _is_cjk(text: str) -> bool:
    return any(ord(character) >= _FIRST_CJK_CODE_POINT for character in text)


def _squash(text: str) -> str:
    """Reduce a spelling to lower-case ASCII letters, digits and "&/()" for tolerant comparison."""
    folded = anyascii(text).lower().replace("+", "&")
    return re.sub(r"[^a-z0-9&/()]", "", folded)


def _squashed_words(text: str) -> tuple[str, ...]:
    return tuple(squashed for squashed in (_squash(word) for word in text.split()) if squashed)


@functools.cache
def _form_index() -> _FormIndex:
    by_squashed: dict[str, list[tuple[_LegalForm, tuple[str, ...]]]] = {}
    by_spelling: dict[str, _LegalForm] = {}
    for form in _LEGAL_FORMS:
        for spelling in (form.canonical, *form.variants, *form.exact):
            if _is_cjk(spelling):
                by_spelling.setdefault(spelling, form)
                continue
            entry = (form, _squashed_words(spelling))
            candidates = by_squashed.setdefault(_squash(spelling), [])
            if entry not in candidates:
                candidates.append(entry)
    return _FormIndex(
        by_squashed={key: tuple(entries) for key, entries in by_squashed.items()},
        by_spelling=by_spelling,
        max_squashed_length=max(len(key) for key in by_squashed),
    )


def _words_align(written: tuple[str, ...], spelling: tuple[str, ...]) -> bool:
    """Return whether the written words split the squashed form where the spelling does.

    Words may run together ("Co.KG" for "Co. KG") and a word may be spelled out in single
    letters ("G M B H", "z o. o."), but "G GmbH" does not stand for "gGmbH": there the
    "G" is a word of the name before the form.
    """
    spelling_breaks = set(itertools.accumulate(len(word) for word in spelling))
    offset = 0
    for current, following in itertools.pairwise(written):
        offset += len(current)
        single_letters = len(current) == 1 and len(following) == 1
        if offset not in spelling_breaks and not single_letters:
            return False
    return True


def _compact(text: str) -> str:
    return re.sub(r"[\s.]", "", text)


def _is_ambiguous_abbreviation(raw: str, form: _LegalForm) -> bool:
    # Only the short form is also a word ("As", "Spa"). Spelled-out names such as
    # "Aktiengesellschaft" are unambiguous in any case.
    is_abbreviation = _squash(raw) == _squash(form.canonical)
    return is_abbreviation and "." not in raw and _compact(raw) != _compact(form.canonical)


def _matching_form(raw: str, *, inside_name: bool) -> _LegalForm | None:
    """Return the legal form spelled by ``raw``, or None.

    Inside a company name, strict forms need dots or the canonical letter case. A
    stand-alone legal-form value does not.
    """
    index = _form_index()
    if _is_cjk(raw):
        return index.by_spelling.get(raw.strip())
    written = _squashed_words(raw)
    for form, spelling in index.by_squashed.get(_squash(raw), ()):
        if not _words_align(written, spelling):
            continue
        if form.exact:
            if re.sub(r"\s", "", raw) in form.exact:
                return form
            continue
        if inside_name and form.strict and _is_ambiguous_abbreviation(raw, form):
            continue
        return form
    return None


def canonical_legal_form(text: str) -> str | None:
    """Return the canonical spelling of the legal form ``text`` ("p.l.c." -> "PLC"), or None if it is not one."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    form = _matching_form(cleaned, inside_name=False)
    return form.canonical if form else None


def legal_forms_equivalent(a: str | None, b: str | None) -> bool:
    """Return whether two legal-form values name the same legal form.

    Spellings of one form are equivalent ("plc" and "Public Limited Company"), as are the
    pairs in ``_EQUIVALENT_FORMS``. Two missing values are equivalent, but a missing value
    and a present one are not. Values that are not known legal forms compare by their letters.
    """
    key_a, key_b = _equivalence_key(a), _equivalence_key(b)
    if key_a is None or key_b is None:
        return key_a is None and key_b is None
    return key_a == key_b or frozenset({key_a, key_b}) in _EQUIVALENT_FORMS


def _equivalence_key(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    canonical = canonical_legal_form(value)
    if canonical is not None:
        return canonical
    return f"unknown:{_squash(value)}"


def parse_company_name(value: str) -> CompanyName:
    """Split ``value`` into base name, trailing legal form and hints, without raising on any text."""
    display = _clean(value)
    if not display:
        return CompanyName(
            display="",
            base="",
            legal_form=None,
            legal_form_kind=None,
            jurisdictions=(),
            hints=(),
            match_key="",
            notes=(
                rejected(
                    "company_name_missing",
                    "The company name is empty; send the company's registered or trading name.",
                ),
            ),
        )

    text, hints = _extract_hints(display)
    words = _words(text)
    base_words, form, form_kept = _split_legal_form(words)
    base = " ".join(base_words)
    if form is not None:
        # The comma in "Quillon Widgets, Inc." belongs to the form that was removed.
        base = base.rstrip(_TRAILING_SEPARATORS) or base

    notes: list[Note] = []
    if form_kept is not None:
        notes.append(
            flagged(
                "legal_form_not_removed",
                f"Kept {display!r} whole because removing its legal form {form_kept.canonical!r} "
                "would leave no name; send the full registered name if this is not it.",
            )
        )
    match_key = _match_key(base)
    if not match_key:
        notes.append(
            rejected(
                "company_name_invalid",
                f"The company name {display!r} contains no letters or digits; send the company's "
                "registered or trading name.",
            )
        )
    return CompanyName(
        display=display,
        base=base,
        legal_form=form.canonical if form else None,
        legal_form_kind=form.kind if form else None,
        jurisdictions=form.jurisdictions if form else (),
        hints=tuple(hints),
        match_key=match_key,
        notes=tuple(notes),
    )


def _clean(value: str) -> str:
    text = unicodedata.normalize("NFC", value)
    text = "".join(
        character
        for character in text
        if unicodedata.category(character) not in {"Cc", "Cf"}
        or character.isspace()
        or character in _KEPT_FORMAT_CHARACTERS
    )
    text = " ".join(text.split())
    while len(text) >= 2 and _OUTER_PAIRS.get(text[0]) == text[-1]:
        text = " ".join(text[1:-1].split())
    return text


def _has_name_characters(text: str) -> bool:
    return any(character.isalnum() for character in text)


def _extract_hints(display: str) -> tuple[str, list[str]]:
    """Remove bracketed and trailing status hints from ``display``, and return the rest and the hints.

    Brackets that belong to a legal form ("(Pty) Ltd") stay. When removing the hints would
    leave no name, nothing is removed.
    """
    hints: list[str] = []
    text = display
    while True:
        found: list[str] = []
        replaced = _BRACKETS_RE.sub(functools.partial(_take_bracket_hint, found=found), text)
        if replaced == text:
            break
        hints.extend(found)
        text = replaced
    text = " ".join(text.replace(_OPEN_PLACEHOLDER, "(").replace(_CLOSE_PLACEHOLDER, ")").split())

    trailing: list[str] = []
    while True:
        match = _STATUS_RE.search(text) or _SEPARATED_STATUS_RE.search(text) or _TRADING_AS_RE.search(text)
        if match is None or not _has_name_characters(text[: match.start()]):
            break
        if match.re is _TRADING_AS_RE and canonical_legal_form(match.group("name")) is not None:
            # "Quillon t/a Ltd" names no other trading name, so the form belongs to the company.
            break
        trailing.insert(0, " ".join(match.group("hint").split()))
        text = text[: match.start()].rstrip(_TRAILING_SEPARATORS)

    if not _has_name_characters(text):
        return display, []
    return text, [*hints, *trailing]


def _take_bracket_hint(match: re.Match[str], *, found: list[str]) -> str:
    content = next((group for group in match.groups() if group is not None), "")
    if _squash(content) in _LEGAL_FORM_BRACKET_WORDS:
        # Placeholders keep the brackets of a legal form out of the next round of matching.
        return f"{_OPEN_PLACEHOLDER}{content}{_CLOSE_PLACEHOLDER}"
    if content.strip():
        found.append(" ".join(match.group(0).split()))
    return " "


def _words(text: str) -> list[str]:
    words = re.sub(r",(?=\S)", ", ", text).split()
    return _split_attached_cjk_forms(words)


def _split_attached_cjk_forms(words: list[str]) -> list[str]:
    """Separate a CJK legal form written without a space ("ソニー株式会社") into its own word."""
    if not words:
        return words
    spellings = sorted(_form_index().by_spelling, key=len, reverse=True)
    last, first = words[-1], words[0]
    for spelling in spellings:
        if len(last) > len(spelling) and last.endswith(spelling):
            return [*words[:-1], last[: -len(spelling)], spelling]
    for spelling in spellings:
        if len(first) > len(spelling) and first.startswith(spelling):
            return [spelling, first[len(spelling) :], *words[1:]]
    return words


def _split_legal_form(words: list[str]) -> tuple[list[str], _LegalForm | None, _LegalForm | None]:
    """Remove at most one trailing legal form, and return base words, the form and a form left in place.

    The longest match that leaves a name wins. The third value is set when a legal form
    was found but removing it would leave no name, so the input was kept whole.
    """
    index = _form_index()
    matches: list[tuple[int, _LegalForm]] = []
    for length in range(1, len(words) + 1):
        raw = " ".join(words[-length:]).strip(",")
        if not _is_cjk(raw) and len(_squash(raw)) > index.max_squashed_length:
            break
        if not _has_name_characters(words[-length]):
            # A lone quote or dash before a form belongs to the name, not to the form.
            continue
        form = _matching_form(raw, inside_name=True)
        if form is not None:
            matches.append((length, form))

    unremovable_form: _LegalForm | None = None
    for length, form in reversed(matches):
        base_words = words[:-length]
        if _ends_with_conjunction(base_words):
            continue
        if not _is_name(base_words):
            unremovable_form = unremovable_form or form
            continue
        return base_words, form, None

    if not matches and len(words) > 1:
        form = _matching_form(words[0], inside_name=True) if _is_cjk(words[0]) else None
        if form is not None and _is_name(words[1:]) and not _ends_with_conjunction(words[1:]):
            return words[1:], form, None
    return words, None, unremovable_form


def _ends_with_conjunction(words: list[str]) -> bool:
    remaining = " ".join(words).rstrip(_TRAILING_SEPARATORS).split()
    return bool(remaining) and remaining[-1].lower() in _NAME_CONJUNCTIONS


def _is_name(words: list[str]) -> bool:
    return any(_has_name_characters(word) and word.lower().strip(".,") not in _STOPWORDS for word in words)


def _match_key(base: str) -> str:
    """Build the registry matching key: ASCII, lower case, "&" as "and", no leading "The"."""
    text = "".join(
        " " if unicodedata.category(character)[0] in "SC" and character not in "&+" else character for character in base
    )
    text = anyascii(text).lower()
    text = re.sub(r"[&+]", " and ", text)
    text = re.sub(r"['\u2019.]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    if text.startswith("the "):
        text = text[len("the ") :]
    return text
