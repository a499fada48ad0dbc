from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.normalise.companies import (
    CompanyName,
    canonical_legal_form,
    legal_forms_equivalent,
    parse_company_name,
)
from cascade.normalise.notes import NoteKind, has_rejection


def _codes(result: CompanyName) -> dict[str, NoteKind]:
    return {note.code: note.kind for note in result.notes}


@pytest.mark.parametrize(
    ("value", "base", "legal_form", "kind"),
    [
        ("Quillon Widgets Pty Limited", "Quillon Widgets", "Pty Ltd", "private_limited"),
        ("Quillon Widgets Pty. Ltd.", "Quillon Widgets", "Pty Ltd", "private_limited"),
        ("Brenner Fahrzeugteile GmbH & Co. KG", "Brenner Fahrzeugteile", "GmbH & Co. KG", "limited_partnership"),
        ("Brenner Fahrzeugteile GmbH & Co KG", "Brenner Fahrzeugteile", "GmbH & Co. KG", "limited_partnership"),
        ("Brenner GmbH&Co.KG", "Brenner", "GmbH & Co. KG", "limited_partnership"),
        ("Brenner GmbH und Co. KG", "Brenner", "GmbH & Co. KG", "limited_partnership"),
        ("Brenner GmbH & Co. KGaA", "Brenner", "GmbH & Co. KGaA", "limited_partnership"),
        (
            "Brenner UG (haftungsbeschränkt) & Co. KG",
            "Brenner",
            "UG (haftungsbeschränkt) & Co. KG",
            "limited_partnership",
        ),
        ("Quillon G M B H", "Quillon", "GmbH", "private_limited"),
        ("Quillon GmbH", "Quillon", "GmbH", "private_limited"),
        ("Quillon Gesellschaft mit beschränkter Haftung", "Quillon", "GmbH", "private_limited"),
        ("Quillon UG (haftungsbeschränkt)", "Quillon", "UG (haftungsbeschränkt)", "private_limited"),
        ("Quillon KG", "Quillon", "KG", "limited_partnership"),
        ("Quillon OHG", "Quillon", "OHG", "general_partnership"),
        ("Quillon AG", "Quillon", "AG", "public_limited"),
        ("Quillon SE", "Quillon", "SE", "public_limited"),
        ("Quillon P.L.C.", "Quillon", "PLC", "public_limited"),
        ("Quillon plc", "Quillon", "PLC", "public_limited"),
        ("Quillon Public Limited Company", "Quillon", "PLC", "public_limited"),
        ("Quillon Limited", "Quillon", "Ltd", "private_limited"),
        ("Quillon Ltd.", "Quillon", "Ltd", "private_limited"),
        ("Quillon Unlimited", "Quillon", "Unlimited", "unlimited_company"),
        ("Quillon CIC", "Quillon", "CIC", "other"),
        ("Quillon LLP", "Quillon", "LLP", "limited_liability_partnership"),
        ("Quillon LP", "Quillon", "LP", "limited_partnership"),
        ("Quillon L.L.C.", "Quillon", "LLC", "limited_liability_company"),
        ("Quillon Limited Liability Company", "Quillon", "LLC", "limited_liability_company"),
        ("Quillon Incorporated", "Quillon", "Inc.", "corporation"),
        ("Quillon Inc", "Quillon", "Inc.", "corporation"),
        ("Quillon Inc.", "Quillon", "Inc.", "corporation"),
        ("Quillon Corporation", "Quillon", "Corp.", "corporation"),
        ("Quillon Corp", "Quillon", "Corp.", "corporation"),
        ("Quillon Company", "Quillon", "Co.", "other"),
        ("Quillon Co., Ltd.", "Quillon", "Co., Ltd.", "private_limited"),
        ("Quillon Co.,Ltd", "Quillon", "Co., Ltd.", "private_limited"),
        ("Quillon S.A. de C.V.", "Quillon", "S.A. de C.V.", "public_limited"),
        ("Quillon SA de CV", "Quillon", "S.A. de C.V.", "public_limited"),
        ("Quillon S. de R.L. de C.V.", "Quillon", "S. de R.L. de C.V.", "limited_liability_company"),
        ("Quillon Sp. z o.o.", "Quillon", "Sp. z o.o.", "private_limited"),
        ("Quillon sp. z o. o.", "Quillon", "Sp. z o.o.", "private_limited"),
        ("Quillon Sp. z o.o. Sp.k.", "Quillon", "Sp. z o.o. Sp.k.", "limited_partnership"),
        ("Quillon S.A.", "Quillon", "S.A.", "public_limited"),
        ("Quillon SA", "Quillon", "S.A.", "public_limited"),
        ("Quillon S.A.S.", "Quillon", "SAS", "private_limited"),
        ("Quillon SARL", "Quillon", "SARL", "private_limited"),
        ("Quillon Sàrl", "Quillon", "SARL", "private_limited"),
        ("Quillon S.r.l.", "Quillon", "S.r.l.", "private_limited"),
        ("Quillon S.p.A.", "Quillon", "S.p.A.", "public_limited"),
        ("Quillon SpA", "Quillon", "S.p.A.", "public_limited"),
        ("Quillon S.a.s.", "Quillon", "S.a.s.", "limited_partnership"),
        ("Quillon S.L.", "Quillon", "S.L.", "private_limited"),
        ("Quillon B.V.", "Quillon", "B.V.", "private_limited"),
        ("Quillon N.V.", "Quillon", "N.V.", "public_limited"),
        ("Quillon AB", "Quillon", "AB", "private_limited"),
        ("Quillon AB (publ)", "Quillon", "AB (publ)", "public_limited"),
        ("Quillon ASA", "Quillon", "ASA", "public_limited"),
        ("QUILLON AS", "QUILLON", "AS", "private_limited"),
        ("Quillon A/S", "Quillon", "A/S", "public_limited"),
        ("Quillon ApS", "Quillon", "ApS", "private_limited"),
        ("Quillon Oy", "Quillon", "Oy", "private_limited"),
        ("Quillon Oyj", "Quillon", "Oyj", "public_limited"),
        ("Quillon Pvt. Ltd.", "Quillon", "Pvt Ltd", "private_limited"),
        ("Quillon Private Limited", "Quillon", "Pvt Ltd", "private_limited"),
        ("Quillon Pte. Ltd.", "Quillon", "Pte Ltd", "private_limited"),
        ("Quillon Sdn. Bhd.", "Quillon", "Sdn Bhd", "private_limited"),
        ("Quillon Berhad", "Quillon", "Bhd", "public_limited"),
        ("Quillon K.K.", "Quillon", "K.K.", "corporation"),
        ("Quillon Kabushiki Kaisha", "Quillon", "K.K.", "corporation"),
        ("クイロン株式会社", "クイロン", "K.K.", "corporation"),
        ("株式会社クイロン", "クイロン", "K.K.", "corporation"),
        ("Quillon Ltda.", "Quillon", "Ltda", "private_limited"),
        ("Quillon Limitada", "Quillon", "Ltda", "private_limited"),
        ("Quillon Ltée", "Quillon", "Ltd", "private_limited"),
        ("Quillon (Pty) Ltd", "Quillon", "(Pty) Ltd", "private_limited"),
        ("Quillon e.K.", "Quillon", "e.K.", "sole_proprietorship"),
        ("Quillon eG", "Quillon", "eG", "cooperative"),
        ("Quillon Co-operative", "Quillon", "Co-op", "cooperative"),
        ("Quillon DAC", "Quillon", "DAC", "private_limited"),
        ("Quillon Teoranta", "Quillon", "Ltd", "private_limited"),
    ],
)
def test_parse_company_legal_form(value: str, base: str, legal_form: str, kind: str) -> None:
    result = parse_company_name(value)
    assert result.base == base
    assert result.legal_form == legal_form
    assert result.legal_form_kind == kind
    assert result.notes == ()


@pytest.mark.parametrize(
    ("value", "jurisdictions"),
    [
        ("Brenner Fahrzeugteile GmbH & Co. KG", ("DE", "AT")),
        ("Quillon Widgets Pty Limited", ("AU",)),
        ("Quillon (Pty) Ltd", ("ZA",)),
        ("Quillon S.A. de C.V.", ("MX",)),
        ("Quillon Sp. z o.o.", ("PL",)),
        ("Quillon Pvt Ltd", ("IN",)),
        ("Quillon Sdn Bhd", ("MY",)),
        ("Quillon Pte Ltd", ("SG",)),
        ("Quillon Oy", ("FI",)),
        ("Quillon A/S", ("DK",)),
        ("Quillon AS", ("NO",)),
        ("Quillon", ()),
    ],
)
def test_parse_company_jurisdictions(value: str, jurisdictions: tuple[str, ...]) -> None:
    assert parse_company_name(value).jurisdictions == jurisdictions


@pytest.mark.parametrize(
    ("value", "base"),
    [
        ("Quillon Day Spa", "Quillon Day Spa"),
        ("Quillon As", "Quillon As"),
        ("Quillon Se", "Quillon Se"),
        ("Quillon Pa", "Quillon Pa"),
        ("QuillonGmbH", "QuillonGmbH"),
        ("Quillon Widgets", "Quillon Widgets"),
        ("Quill & Co", "Quill & Co"),
        ("Quill and Company", "Quill and Company"),
    ],
)
def test_parse_company_no_legal_form(value: str, base: str) -> None:
    result = parse_company_name(value)
    assert result.base == base
    assert result.legal_form is None
    assert result.legal_form_kind is None


@pytest.mark.parametrize(
    ("value", "base", "legal_form"),
    [
        ("Holdings Ltd Ltd", "Holdings Ltd", "Ltd"),
        ("Quillon Ltd Holdings Inc", "Quillon Ltd Holdings", "Inc."),
        ("Quillon Widgets, Inc.", "Quillon Widgets", "Inc."),
        ("Quillon Widgets,Inc.", "Quillon Widgets", "Inc."),
        ("Quill & Co. Ltd", "Quill & Co.", "Ltd"),
        ("Müller & Co. KG", "Müller & Co.", "KG"),
        ("The Company Ltd", "The Company", "Ltd"),
        ("Company Limited", "Company", "Ltd"),
        ("Quillon Inc. Limited", "Quillon Inc.", "Ltd"),
    ],
)
def test_parse_company_one_trailing_form_removed(value: str, base: str, legal_form: str) -> None:
    result = parse_company_name(value)
    assert result.base == base
    assert result.legal_form == legal_form


@pytest.mark.parametrize("value", ["Limited", "GmbH", "Ltd.", "P.L.C.", "The Ltd", "Inc.,", "株式会社"])
def test_parse_company_only_legal_form_kept(value: str) -> None:
    result = parse_company_name(value)
    assert result.base == result.display
    assert result.legal_form is None
    assert _codes(result) == {"legal_form_not_removed": NoteKind.FLAGGED}


@pytest.mark.parametrize(
    ("value", "base", "legal_form", "hints"),
    [
        ("Quillon Ltd (in liquidation)", "Quillon", "Ltd", ("(in liquidation)",)),
        ("Quillon Widgets (UK) Limited", "Quillon Widgets", "Ltd", ("(UK)",)),
        ("Quillon [Dissolved]", "Quillon", None, ("[Dissolved]",)),
        ("Quillon Ltd - in administration", "Quillon", "Ltd", ("in administration",)),
        ("Quillon Ltd, in receivership", "Quillon", "Ltd", ("in receivership",)),
        ("Quillon Ltd in members' voluntary liquidation", "Quillon", "Ltd", ("in members' voluntary liquidation",)),
        ("Quillon Ltd - dissolved", "Quillon", "Ltd", ("dissolved",)),
        ("Quillon GmbH i.L.", "Quillon", "GmbH", ("i.L.",)),
        ("Quillon GmbH in Liquidation", "Quillon", "GmbH", ("in Liquidation",)),
        ("Quillon AS under avvikling", "Quillon", "AS", ("under avvikling",)),
        ("Quillon Ltd t/a Quill Widgets", "Quillon", "Ltd", ("t/a Quill Widgets",)),
        ("Quillon Inc. d/b/a Quill Widgets", "Quillon", "Inc.", ("d/b/a Quill Widgets",)),
        ("Quillon (Europe) Ltd (in administration)", "Quillon", "Ltd", ("(Europe)", "(in administration)")),
        ("Quillon (Pty) Ltd", "Quillon", "(Pty) Ltd", ()),
        ("Quillon AB (publ)", "Quillon", "AB (publ)", ()),
        ("Quillon Co (UK) Ltd", "Quillon", "Co., Ltd.", ("(UK)",)),
    ],
)
def test_parse_company_hints(value: str, base: str, legal_form: str | None, hints: tuple[str, ...]) -> None:
    result = parse_company_name(value)
    assert result.base == base
    assert result.legal_form == legal_form
    assert result.hints == hints


def test_parse_company_brackets_only_kept_as_base() -> None:
    result = parse_company_name("(Quillon)")
    assert result.base == "(Quillon)"
    assert result.hints == ()


@pytest.mark.parametrize("value", ["", "   ", "\t\n", '""', "\u200b"])
def test_parse_company_missing_rejected(value: str) -> None:
    result = parse_company_name(value)
    assert result.base == ""
    assert result.display == ""
    assert _codes(result) == {"company_name_missing": NoteKind.REJECTED}


def test_parse_company_no_letters_rejected() -> None:
    result = parse_company_name("--- !!!")
    assert result.base == "--- !!!"
    assert _codes(result) == {"company_name_invalid": NoteKind.REJECTED}


@pytest.mark.parametrize(
    ("value", "display"),
    [
        ('  "Quillon   Widgets Ltd"  ', "Quillon Widgets Ltd"),
        ("\u201cQuillon Ltd\u201d", "Quillon Ltd"),
        ("'\"Quillon Ltd\"'", "Quillon Ltd"),
        ("Quillon\u200b Ltd", "Quillon Ltd"),
        ("Mu\u0308ller GmbH", "Müller GmbH"),
    ],
)
def test_parse_company_display_cleaned(value: str, display: str) -> None:
    assert parse_company_name(value).display == display


@pytest.mark.parametrize(
    ("value", "match_key"),
    [
        ("The Quillon Company", "quillon"),
        ("The Quillon Widgets Ltd", "quillon widgets"),
        ("Quill & Sons Ltd", "quill and sons"),
        ("Quill and Sons Limited", "quill and sons"),
        ("Müller Fahrzeugteile GmbH", "muller fahrzeugteile"),
        ("Coca-Cola Co", "coca cola"),
        ("A.B.C. Widgets PLC", "abc widgets"),
        ("Quill's Widgets Ltd", "quills widgets"),
        ("QUILLON   WIDGETS, INC.", "quillon widgets"),
        ("Theatre Quillon Ltd", "theatre quillon"),
        ("\U0001f3e2 Quillon Ltd", "quillon"),
    ],
)
def test_parse_company_match_key(value: str, match_key: str) -> None:
    assert parse_company_name(value).match_key == match_key


def test_parse_company_leading_the_kept_in_base() -> None:
    result = parse_company_name("The Quillon Widgets Ltd")
    assert result.base == "The Quillon Widgets"
    assert result.display == "The Quillon Widgets Ltd"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("PLC", "PLC"),
        ("plc", "PLC"),
        ("P.L.C.", "PLC"),
        ("p.l.c.", "PLC"),
        ("Public Limited Company", "PLC"),
        ("Limited", "Ltd"),
        ("Ltd.", "Ltd"),
        ("Pty. Ltd.", "Pty Ltd"),
        ("Proprietary Limited", "Pty Ltd"),
        ("gmbh & co kg", "GmbH & Co. KG"),
        ("G.m.b.H.", "GmbH"),
        ("Incorporated", "Inc."),
        ("Corporation", "Corp."),
        ("L.L.C.", "LLC"),
        ("sa de cv", "S.A. de C.V."),
        ("Sp. z o.o.", "Sp. z o.o."),
        ("as", "AS"),
        ("Widgets", None),
        ("", None),
        ("G GmbH", None),
    ],
)
def test_canonical_legal_form(text: str, canonical: str | None) -> None:
    assert canonical_legal_form(text) == canonical


@pytest.mark.parametrize(
    "canonical",
    [
        "GmbH & Co. KG",
        "Pty Ltd",
        "PLC",
        "Ltd",
        "LLC",
        "Inc.",
        "S.A. de C.V.",
        "GmbH",
        "AG",
        "SE",
        "S.A.",
        "SAS",
        "S.r.l.",
        "S.p.A.",
        "B.V.",
        "N.V.",
        "AB",
        "ASA",
        "AS",
        "Oy",
        "A/S",
        "ApS",
        "LLP",
        "LP",
        "Corp.",
        "Co.",
        "K.K.",
        "Pvt Ltd",
        "Sdn Bhd",
        "KG",
        "OHG",
        "UG (haftungsbeschränkt)",
        "SARL",
        "Ltda",
        "CIC",
        "Unlimited",
        "Co., Ltd.",
        "Sp. z o.o.",
        "(Pty) Ltd",
    ],
)
def test_canonical_legal_form_is_fixed_point(canonical: str) -> None:
    assert canonical_legal_form(canonical) == canonical
    result = parse_company_name(f"Quillon {canonical}")
    assert result.legal_form == canonical


@pytest.mark.parametrize(
    ("a", "b", "equivalent"),
    [
        ("PLC", "P.L.C.", True),
        ("plc", "Public Limited Company", True),
        ("p.l.c.", "public limited company", True),
        ("Ltd", "Limited", True),
        ("Inc.", "Corporation", True),
        ("Ltd", "Co., Ltd.", True),
        ("GmbH", "GmbH & Co. KG", False),
        ("AS", "A/S", False),
        ("Ltd", "PLC", False),
        ("Pty Ltd", "Ltd", False),
        (None, None, True),
        (None, "Ltd", False),
        ("", None, True),
        ("Widgets", "widgets", True),
        ("Widgets", "Ltd", False),
    ],
)
def test_legal_forms_equivalent(a: str | None, b: str | None, equivalent: bool) -> None:
    assert legal_forms_equivalent(a, b) is equivalent
    assert legal_forms_equivalent(b, a) is equivalent


# Property tests

# As written, ALL-CAPS and all lower-case, the three casings found in CRM exports.
_CASINGS: list[Callable[[str], str]] = [str.strip, str.upper, str.lower]

_NAME_WORDS = ["Quillon", "Widgets", "Brenner", "The", "&", "Holdings", "(UK)", "[Dissolved]", "Müller", "A", "G"]
_FORM_WORDS = [
    "Ltd",
    "Limited",
    "P.L.C.",
    "GmbH",
    "G M B H",
    "GmbH & Co. KG",
    "Pty Limited",
    "(Pty) Ltd",
    "Inc.",
    "Co",
    "Co., Ltd.",
    "S.A. de C.V.",
    "Sp. z o.o.",
    "AS",
    "As",
    "SpA",
    "AB (publ)",
    "株式会社",
    "- in administration",
    "t/a Quill",
]


@st.composite
def _written_companies(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_NAME_WORDS), min_size=1, max_size=3))
    forms = draw(st.lists(st.sampled_from(_FORM_WORDS), max_size=2))
    text = " ".join([*words, *forms])
    casing = draw(st.sampled_from(_CASINGS))
    return casing(text)


_company_inputs = st.one_of(_written_companies(), st.text())


@settings(max_examples=200, deadline=None)
@given(_company_inputs)
def test_parse_company_idempotent(value: str) -> None:
    result = parse_company_name(value)
    assert parse_company_name(result.display) == result


@settings(max_examples=200, deadline=None)
@given(_company_inputs)
def test_parse_company_base_and_form_round_trip(value: str) -> None:
    result = parse_company_name(value)
    if result.legal_form is None:
        return
    again = parse_company_name(f"{result.base} {result.legal_form}")
    assert again.base == result.base
    assert again.legal_form == result.legal_form


@settings(max_examples=200, deadline=None)
@given(_company_inputs)
def test_parse_company_base_never_empty(value: str) -> None:
    result = parse_company_name(value)
    if result.display:
        assert result.base
    else:
        assert has_rejection(result.notes)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_parse_company_never_raises(value: str, other: str) -> None:
    result = parse_company_name(value)
    assert result.match_key == " ".join(result.match_key.split())
    assert result.match_key.isascii()
    canonical = canonical_legal_form(other)
    if canonical is not None:
        assert canonical_legal_form(canonical) == canonical
    assert isinstance(legal_forms_equivalent(value, other), bool)
