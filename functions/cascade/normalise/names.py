"""Parse person names into title, given names, surname and suffix for display and email patterns.

``nameparser`` supplies the vocabularies (titles, post-nominal suffixes, surname particles).
The structure rules are this module's own, because the email-pattern generator needs
results that differ from nameparser's defaults in three places. A word such as "Bishop"
or "Duke" before a single surname is a given name, not a title. ALL-CAPS input is
re-cased without Mac/Mc guesses. A field that names two people is rejected, not merged.

Nicknames in quotes or brackets ("Robert 'Bob' Quill") are dropped from the result and
named in an ``assumed`` note with code ``nickname_dropped``, so that a ``PersonName``
always describes the legal or usual given name.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from anyascii import anyascii
from nameparser.config import Constants

from cascade.normalise.notes import Note, assumed, flagged, rejected, repaired

# Longer values are pasted paragraphs or several rows, not one person's name.
MAX_NAME_LENGTH = 300


@dataclass(frozen=True, slots=True)
class PersonName:
    """One person's name split into parts, with ASCII forms for building email addresses."""

    title: str
    first: str
    middle: str
    last: str
    suffix: str
    full: str
    ascii_first: str
    ascii_middle: str
    ascii_last: str
    multiple_people: bool
    notes: tuple[Note, ...]


# Honorifics that are never given names: a leading one is always a title, and a single
# name after it is the surname ("Dr. Quillfeather").
_HONORIFICS = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "mister", "madam", "madame", "mme", "mlle", "mademoiselle",
        "monsieur", "dr", "dra", "doctor", "prof", "professor", "rev", "revd", "reverend", "hon",
        "honourable", "honorable", "rt", "sir", "dame", "lord", "lady", "herr", "frau", "fraulein",
        "fräulein", "dhr", "mevr", "mevrouw", "fru", "frk", "hr", "señor", "senor", "señora", "senora",
        "señorita", "senorita", "sr", "sra", "srta", "sig", "signor", "signora", "signorina", "dott",
        "dott.ssa", "ing", "avv", "dipl.-ing", "univ.prof", "fh-prof", "priv.-doz", "ir", "drs", "mgr",
        "fr", "br", "capt", "cpt", "col", "lt", "ltc", "sgt", "maj", "adm", "cdr", "cmdr", "cpl", "pvt",
        "brig", "insp", "supt", "gov", "rep", "pres", "amb", "rabbi", "imam", "sheikh", "sheik",
        "shaikh", "shaykh",
    }
)  # fmt: skip

# Words that are titles and also given names. nameparser's title list is added to these
# in _vocabulary(). Such a word is a title when a given name and a surname follow it, or
# when it is written as an abbreviation with a dot. Otherwise it is the given name.
_AMBIGUOUS_TITLES = frozenset(
    {
        "bishop", "duke", "dean", "major", "earl", "marshal", "general", "gen", "colonel", "king",
        "prince", "count", "judge", "sister", "brother", "father", "mother", "master", "baron",
        "don", "dona", "doña", "mag", "sen", "chief", "deacon", "elder", "pastor",
    }
)  # fmt: skip

# Entries of nameparser's title list that are never a title before a person's name here:
# pronouns, countries, particles, suffixes, or given-name abbreviations such as "Md" and "Wm".
_NOT_TITLES = frozenset(
    {
        "first", "his", "her", "us", "uk", "the", "do", "me", "se", "sa", "ra", "wm", "pd", "md", "phd",
        "jr", "senior", "junior", "family", "united", "states", "state", "english", "british", "mg",
        "st", "ab", "pro", "air",
    }
)  # fmt: skip

# Suffixes recognised in any casing after at least one name word ("ada quill phd").
# The nameparser acronym list is far larger but contains surnames such as Ma, Do and Obe,
# so its other entries count only when written as acronyms (see _is_suffix).
_COMMON_SUFFIXES = frozenset(
    {
        "jr", "jnr", "sr", "snr", "ii", "iii", "iv", "vi", "vii", "viii", "2nd", "3rd", "4th", "5th",
        "phd", "dphil", "md", "dds", "dmd", "dvm", "jd", "mba", "cpa", "esq", "esquire", "rn", "llm",
        "cfa", "pmp", "pharmd", "psyd", "i", "v", "junior", "senior",
    }
)  # fmt: skip

# Entries of nameparser's suffix list that are also common surnames or given names
# ("Ada Ma", "Li Chi", "Obi"), so they are never read as suffixes.
_SUFFIXES_THAT_ARE_NAMES = frozenset(
    {
        "ma", "do", "chi", "mai", "lac", "ace", "ala", "am", "arm", "cap", "caps", "cha", "che", "ches",
        "ch", "dd", "ed", "ei", "els", "git", "iso", "mc", "mem", "mt", "nd", "od", "om", "ot", "pe",
        "ph", "pp", "ra", "rai", "rid", "res", "same", "sa", "se", "si", "ud", "obi", "obe", "cua",
        "cusp", "cro", "jp", "kg", "lg", "lm", "gm", "cm", "pg", "mm", "ea", "dr",
    }
)  # fmt: skip

# These are also an initial, a surname or a given name, so they are suffixes only after
# at least two name words ("Ada Quill V", but "Ada V" has the surname V).
_SUFFIXES_AFTER_TWO_WORDS = frozenset({"i", "v", "junior", "senior", "ret", "vet"})

_ROMAN_NUMERALS = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"})

# Suffixes whose usual spelling is neither all capitals nor capitalised. The letters of a
# suffix take the case pattern given here, and dots stay where they were ("ph.d." -> "Ph.D.").
_SUFFIX_CASE_PATTERNS = {
    pattern.lower(): pattern
    for pattern in (
        "PhD", "DPhil", "MPhil", "PharmD", "PsyD", "EdD", "DMin", "MDiv", "MSc", "BSc", "MEng", "MSt",
        "Jr", "Jnr", "Sr", "Snr", "Esq", "Esquire", "Junior", "Senior", "Ret", "Vet", "2nd", "3rd",
        "4th", "5th",
    )
}  # fmt: skip

# Particles written in lower case inside a name ("Ada van der Berg") when re-casing.
_LOWERCASE_PARTICLES = frozenset(
    {
        "van", "von", "de", "der", "den", "da", "di", "do", "dos", "das", "du", "le", "la", "les",
        "del", "della", "degli", "dei", "ten", "ter", "te", "zu", "vom", "af", "av", "y", "bin",
        "binti", "bint",
    }
)  # fmt: skip

# Conjunctions inside Spanish, Portuguese and Catalan double surnames ("Ortega y Gasset").
# Only the lower-case form counts, because "E" is more often a middle initial.
_SURNAME_CONJUNCTIONS = frozenset({"y", "e"})

_HOUSEHOLD_WORDS = frozenset(
    {
        "family", "household", "familie", "famille", "familia", "famiglia", "familj", "familien",
        "messrs", "mmes", "mesdames",
    }
)  # fmt: skip

_APOSTROPHES = frozenset("'\u2019\u02bc\u2018`\u00b4\u2032")
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_KEPT_PUNCTUATION = frozenset(".,-'")
# Zero-width joiners shape Persian and Indic names, so they are kept. Other format characters
# (byte-order marks, bidirectional marks) render as nothing and are removed.
_KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
_COMMAS = str.maketrans({"\u060c": ",", "\uff0c": ","})

_OUTER_PAIRS = {'"': '"', "'": "'", "\u201c": "\u201d", "\u201e": "\u201c", "\u2018": "\u2019", "«": "»", "(": ")"}
_NICKNAME_RE = re.compile(
    r"\(([^()]*)\)|\[([^\[\]]*)\]|\"([^\"]*)\"|\u201c([^\u201d]*)\u201d|\u2018([^\u2019]*)\u2019"
    r"|«([^»]*)»|(?<![\w'])'([^'\s][^']*)'(?![\w'])"
)
_PRONOUNS_RE = re.compile(
    r"\(?\s*\b(?:she|he|they|ze|xe|sie|er)\s*/\s*(?:her|hers|him|his|them|theirs|zir|xem|ihr|ihm)\b\s*\)?",
    re.IGNORECASE,
)
_CONJUNCTION_RE = re.compile(r"(?:^|\s)(?:and|und|et)(?=\s|$)|[&+]", re.IGNORECASE)
_SEPARATOR_RE = re.compile(r"[/;|\\]")
_EMAIL_RE = re.compile(r"^\S+@\S+\.\S+$")
_WORD_RE = re.compile(r"[^\W\d_]+")
_SEGMENT_SPLIT_RE = re.compile(r"([\-'.])")
_DANGLING_CONJUNCTIONS = frozenset({"and", "und", "et"})


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    ambiguous_titles: frozenset[str]
    suffixes: frozenset[str]
    particles: frozenset[str]
    surname_only_particles: frozenset[str]
    bound_first_names: frozenset[str]


@functools.cache
def _vocabulary() -> _Vocabulary:
    # A fresh Constants object, so that nothing here changes nameparser's module-wide defaults.
    constants = Constants()
    titles = frozenset(constants.titles)
    ordinals = frozenset(title for title in titles if re.fullmatch(r"\d+(?:st|nd|rd|th)", title))
    return _Vocabulary(
        ambiguous_titles=(titles - _HONORIFICS - _NOT_TITLES - ordinals) | _AMBIGUOUS_TITLES,
        suffixes=(
            frozenset(constants.suffix_acronyms)
            | frozenset(constants.suffix_not_acronyms)
            | frozenset(_SUFFIX_CASE_PATTERNS)
        )
        - _SUFFIXES_THAT_ARE_NAMES
        - frozenset(constants.suffix_acronyms_ambiguous),
        particles=frozenset(constants.prefixes),
        surname_only_particles=frozenset(constants.non_first_name_prefixes),
        bound_first_names=frozenset(constants.bound_first_names),
    )


@dataclass(slots=True)
class _Prepared:
    """A name field after character cleaning: comma-separated parts of words."""

    parts: list[list[str]]
    nicknames: list[str] = field(default_factory=list)
    bracket_suffixes: list[str] = field(default_factory=list)
    removed_characters: bool = False
    multiple_people: bool = False


@dataclass(slots=True)
class _Parts:
    titles: list[str] = field(default_factory=list)
    first: list[str] = field(default_factory=list)
    middle: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    last_name_first: bool = False
    multiple_people: bool = False
    recased: bool = False


def parse_person_name(
    *, full_name: str | None = None, first_name: str | None = None, last_name: str | None = None
) -> PersonName:
    """Parse a full name, or first and last names, into a ``PersonName`` without raising.

    A non-blank ``first_name`` or ``last_name`` wins over the same part parsed from
    ``full_name``, which fills only the parts that the split fields leave empty.
    """
    fields = {"full_name": full_name or "", "first_name": first_name or "", "last_name": last_name or ""}
    input_text = " / ".join(value for value in fields.values() if value.strip())

    for name, value in fields.items():
        if len(value) > MAX_NAME_LENGTH:
            return _rejection(
                rejected(
                    "name_too_long",
                    f"The {name} value of {len(value)} characters is too long for a name; "
                    f"send at most {MAX_NAME_LENGTH} characters with one person's name.",
                )
            )
    if not input_text:
        return _rejection(rejected("name_missing", "The name is empty; send full_name, or first_name and last_name."))
    if any(_EMAIL_RE.match(value.strip()) for value in fields.values()):
        return _rejection(
            rejected(
                "name_missing",
                f"The name {input_text!r} is an email address; send the person's name instead.",
            )
        )

    prepared = {name: _prepare(value) for name, value in fields.items() if value.strip()}
    if any(item.multiple_people for item in prepared.values()):
        return _rejection(_multiple_people_note(input_text), multiple_people=True)

    split_given = "first_name" in prepared or "last_name" in prepared
    split_parts = _parse_split(prepared.get("first_name"), prepared.get("last_name")) if split_given else None
    full_parts = _parse_full(prepared["full_name"]) if "full_name" in prepared else None
    parts = _merge(split_parts, full_parts)
    if parts.multiple_people:
        return _rejection(_multiple_people_note(input_text), multiple_people=True)
    return _build(parts, input_text, list(prepared.values()))


def _rejection(note: Note, *, multiple_people: bool = False) -> PersonName:
    return PersonName(
        title="",
        first="",
        middle="",
        last="",
        suffix="",
        full="",
        ascii_first="",
        ascii_middle="",
        ascii_last="",
        multiple_people=multiple_people,
        notes=(note,),
    )


def _multiple_people_note(input_text: str) -> Note:
    return rejected(
        "multiple_people",
        f"The name {input_text!r} names more than one person; send one person per row or request.",
    )


# Cleaning


def _prepare(value: str) -> _Prepared:
    text = unicodedata.normalize("NFC", value).translate(_COMMAS)
    text = " ".join(text.split())
    text = _strip_outer_pairs(text)
    without_pronouns = _PRONOUNS_RE.sub(" ", text)
    pronouns_removed = without_pronouns != text
    text = without_pronouns

    nicknames: list[str] = []
    bracket_suffixes: list[str] = []
    without_nicknames = _NICKNAME_RE.sub(lambda match: _collect_bracketed(match, nicknames, bracket_suffixes), text)
    if _WORD_RE.search(without_nicknames) is None and nicknames:
        # The quotes or brackets held the whole name, not a nickname next to it.
        without_nicknames = " ".join(nicknames)
        nicknames = []
    text = without_nicknames

    multiple = _names_several_people(text)
    cleaned, removed = _remove_stray_characters(text)
    removed = removed or pronouns_removed
    parts: list[list[str]] = []
    for raw_part in cleaned.split(","):
        words, part_removed = _clean_words(raw_part.split())
        removed = removed or part_removed
        if words:
            parts.append(_join_split_phd(words))
    # Stray punctuation can separate a conjunction that touched its neighbours ("Ada%and:Ben").
    multiple = multiple or any(word.lower() in _DANGLING_CONJUNCTIONS for part in parts for word in part)
    return _Prepared(
        parts=parts,
        nicknames=nicknames,
        bracket_suffixes=bracket_suffixes,
        removed_characters=removed,
        multiple_people=multiple,
    )


def _strip_outer_pairs(text: str) -> str:
    while len(text) >= 2 and _OUTER_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def _collect_bracketed(match: re.Match[str], nicknames: list[str], suffixes: list[str]) -> str:
    content = " ".join(next((group for group in match.groups() if group is not None), "").split())
    words = [word.strip(",") for word in content.replace(",", " ").split()]
    if words and all(_is_suffix(word, after_comma=True, words_before=2) for word in words):
        suffixes.extend(words)
    elif _WORD_RE.search(content):
        nicknames.append(content)
    return " "


def _names_several_people(text: str) -> bool:
    for pattern in (_CONJUNCTION_RE, _SEPARATOR_RE):
        sides = [side for side in pattern.split(text) if side is not None]
        if sum(1 for side in sides if _WORD_RE.search(side)) >= 2:
            return True
    words = {word.lower() for word in _WORD_RE.findall(text)}
    return bool(words & _HOUSEHOLD_WORDS)


def _remove_stray_characters(text: str) -> tuple[str, bool]:
    characters: list[str] = []
    removed = False
    for character in text:
        category = unicodedata.category(character)
        if character in _APOSTROPHES:
            characters.append("'")
        elif character in _DASHES:
            characters.append("-")
        elif _is_name_character(character, category):
            characters.append(character)
        elif character.isspace():
            characters.append(" ")
        elif category[0] in "PZ" or category == "Sm":
            # Punctuation between words separates them: "Ada!Quill" reads as two words.
            characters.append(" ")
            removed = True
        else:
            # Emoji, other symbols and invisible characters are dropped without a gap.
            removed = True
    return "".join(characters), removed


def _is_name_character(character: str, category: str) -> bool:
    return (
        category[0] in "LM"
        or category == "Nd"
        or character in _KEPT_PUNCTUATION
        or character in _KEPT_FORMAT_CHARACTERS
    )


def _clean_words(words: Iterable[str]) -> tuple[list[str], bool]:
    cleaned: list[str] = []
    removed = False
    for raw in words:
        word = raw.lstrip(".-'").rstrip("-'")
        if _WORD_RE.search(word) is None:
            removed = True
            continue
        removed = removed or word != raw
        cleaned.append(word)
    while cleaned and cleaned[0].lower() in _DANGLING_CONJUNCTIONS:
        cleaned.pop(0)
        removed = True
    while cleaned and cleaned[-1].lower() in _DANGLING_CONJUNCTIONS:
        cleaned.pop()
        removed = True
    return cleaned, removed


def _join_split_phd(words: list[str]) -> list[str]:
    joined: list[str] = []
    for word in words:
        # "Ph. D." after a name is one suffix, but on its own it could be two initials.
        if len(joined) >= 2 and joined[-1].lower() == "ph." and word.lower() in {"d", "d."}:
            joined[-1] = f"{joined[-1]}{word}"
        else:
            joined.append(word)
    return joined


# Classification of words


def _key(word: str) -> str:
    return word.lower().rstrip(".")


def _suffix_key(word: str) -> str:
    return word.lower().replace(".", "")


def _is_honorific(word: str) -> bool:
    return _key(word) in _HONORIFICS


def _is_ambiguous_title(word: str) -> bool:
    return _key(word) in _vocabulary().ambiguous_titles


def _is_suffix(word: str, *, after_comma: bool, words_before: int) -> bool:
    """Return whether ``word`` is a post-nominal suffix after ``words_before`` name words.

    Common suffixes count in any casing. The rest of nameparser's list counts only after a
    comma, with dots, or in its usual letter case ("CSM", "M.D.", "PsyD"), because that
    list also contains ordinary words.
    """
    key = _suffix_key(word)
    if not key or words_before < 1:
        return False
    if key in _SUFFIXES_AFTER_TWO_WORDS and words_before < 2:
        return False
    if key in _COMMON_SUFFIXES:
        return True
    if key not in _vocabulary().suffixes:
        return False
    return after_comma or "." in word or word == _display_suffix(word)


def _has_both_cases(text: str) -> bool:
    has_lower = any(character.islower() for character in text)
    # Title-case digraphs such as "ǅ" count as capitals.
    has_upper = any(character.isupper() or unicodedata.category(character) == "Lt" for character in text)
    return has_lower and has_upper


# Structure


def _parse_full(prepared: _Prepared) -> _Parts:
    if not prepared.parts:
        return _Parts(suffixes=list(prepared.bracket_suffixes))
    main, *rest = prepared.parts
    comma_suffixes: list[str] = []
    others: list[list[str]] = []
    for part in rest:
        if all(_is_suffix(word, after_comma=True, words_before=len(main)) for word in part):
            comma_suffixes.extend(part)
        else:
            others.append(part)
    if len(others) > 1:
        return _Parts(multiple_people=True)

    if others:
        parts = _split_structure(others[0], main)
        parts.last_name_first = True
    else:
        parts = _single_structure(main)
    parts.suffixes.extend(prepared.bracket_suffixes)
    parts.suffixes.extend(comma_suffixes)
    return parts


def _parse_split(first: _Prepared | None, last: _Prepared | None) -> _Parts:
    given_names = [word for part in first.parts for word in part] if first else []
    surname_parts = last.parts if last else []
    surname: list[str] = surname_parts[0] if surname_parts else []
    extra_suffixes: list[str] = []
    # In a last-name field, a comma can only introduce a suffix ("Quill, Jr.").
    for part in surname_parts[1:]:
        if all(_is_suffix(word, after_comma=True, words_before=len(surname)) for word in part):
            extra_suffixes.extend(part)
        else:
            surname = [*surname, *part]
    parts = _split_structure(given_names, surname)
    for prepared in (first, last):
        if prepared:
            parts.suffixes.extend(prepared.bracket_suffixes)
    parts.suffixes.extend(extra_suffixes)
    return parts


def _peel_suffixes(words: list[str]) -> tuple[list[str], list[str]]:
    end = len(words)
    while end > 0 and _is_suffix(words[end - 1], after_comma=False, words_before=end - 1):
        end -= 1
    return words[:end], words[end:]


def _peel_honorifics(words: list[str]) -> tuple[list[str], list[str]]:
    start = 0
    while start < len(words) and _is_honorific(words[start]):
        start += 1
    return words[:start], words[start:]


def _peel_titles_before_names(words: list[str]) -> tuple[list[str], list[str]]:
    """Peel leading titles from the words of a full name.

    A word that is a title and also a given name stays the given name when the words
    after it form a surname and nothing else ("Bishop Farrowby", "Bishop de la Cruz"),
    and is a title when a given name follows too ("Major Ada Quill").
    """
    start = 0
    while start < len(words):
        word = words[start]
        if _is_honorific(word) or (
            _is_ambiguous_title(word) and (word.endswith(".") or _has_middle_names(words[start:]))
        ):
            start += 1
        else:
            break
    return words[:start], words[start:]


def _has_middle_names(names: list[str]) -> bool:
    if len(names) < 3:
        return False
    probe = _Parts()
    _assign_given_and_surname(probe, names)
    return bool(probe.middle) or len(probe.first) > 1


def _single_structure(words: list[str]) -> _Parts:
    rest, suffixes = _peel_suffixes(words)
    honorifics, rest = _peel_honorifics(rest)
    recased = _recase_if_single_case(rest)
    titles, names = _peel_titles_before_names(recased)
    parts = _Parts(titles=[*honorifics, *titles], suffixes=suffixes, recased=recased != rest)
    if len(names) == 1:
        if parts.titles:
            parts.last = names
        else:
            parts.first = names
        return parts
    if len(names) >= 2:
        _assign_given_and_surname(parts, names)
    return parts


def _assign_given_and_surname(parts: _Parts, names: list[str]) -> None:
    # NOTE: one string cannot show where a surname of several words starts unless a particle
    # marks it, so "Ada Berg Quill" has the middle name Berg and "Ada Van Quill" the surname
    # "Van Quill". A name read from "Quill, Ada" or from separate fields can therefore parse
    # differently once joined into ``full``. Send first_name and last_name to keep the split.
    vocabulary = _vocabulary()
    leading = names[0].lower()
    if leading in vocabulary.surname_only_particles or (
        leading in vocabulary.particles and names[0] == leading and _has_letters_with_case(names[0])
    ):
        # "de la Cruz" and "van der Berg" (written with a lower-case particle) are surnames only.
        parts.last = names
        return

    last_start = len(names) - 1
    for index in range(1, len(names) - 1):
        if names[index].lower() in vocabulary.particles:
            last_start = index
            break
    while last_start - 2 >= 1 and names[last_start - 1] in _SURNAME_CONJUNCTIONS:
        last_start -= 2
    # "Abdul Salam Quill": a bound given-name prefix joins the next word when that word is
    # not already part of the surname ("Abdul van der Berg").
    first_end = 2 if leading in vocabulary.bound_first_names and last_start > 1 else 1
    parts.first = names[:first_end]
    parts.middle = names[first_end:last_start]
    parts.last = names[last_start:]


def _split_structure(given_names: list[str], surname: list[str]) -> _Parts:
    # Suffixes are peeled from the end of the whole name, so "Ada" + "Quill V" reads like
    # "Ada Quill V". They reach into the given_names names only when the surname is all suffixes.
    rest, suffixes = _peel_suffixes([*given_names, *surname])
    given_names, surname = rest[: len(given_names)], rest[len(given_names) :]
    if given_names:
        titles, given_names = _peel_honorifics(given_names)
    else:
        titles, surname = _peel_honorifics(surname)

    names = [*given_names, *surname]
    recased = _recase_if_single_case(names)
    given_names, surname = recased[: len(given_names)], recased[len(given_names) :]

    start = 0
    while start < len(given_names):
        word = given_names[start]
        # The surname counts as one name after the word, whatever its length.
        names_after = len(given_names) - start - 1 + (1 if surname else 0)
        if _is_honorific(word) or (_is_ambiguous_title(word) and (word.endswith(".") or names_after >= 2)):
            start += 1
        else:
            break
    titles = [*titles, *given_names[:start]]
    given_names = given_names[start:]

    first_end = 2 if len(given_names) >= 2 and given_names[0].lower() in _vocabulary().bound_first_names else 1
    return _Parts(
        titles=titles,
        first=given_names[:first_end],
        middle=given_names[first_end:],
        last=surname,
        suffixes=suffixes,
        recased=recased != names,
    )


def _merge(split: _Parts | None, full: _Parts | None) -> _Parts:
    if split is None:
        return full or _Parts()
    if full is None:
        return split
    if split.multiple_people or full.multiple_people:
        return _Parts(multiple_people=True)
    return _Parts(
        titles=split.titles or full.titles,
        first=split.first or full.first,
        middle=split.middle or (full.middle if not split.first else []),
        last=split.last or full.last,
        suffixes=split.suffixes or full.suffixes,
        recased=split.recased or full.recased,
    )


# Casing


def _has_letters_with_case(word: str) -> bool:
    return any(character.islower() or character.isupper() for character in word)


def _recase_if_single_case(words: list[str]) -> list[str]:
    """Re-case name words that are all upper-case or all lower-case, and keep mixed casing.

    Titles and suffixes are not part of ``words``, so "ada quill PhD" is re-cased too.
    """
    if _has_both_cases("".join(words)):
        return words
    # Changing case can leave a letter and a combining mark that compose ("i" + U+0307 -> "İ").
    return [unicodedata.normalize("NFC", word) for word in _recase_words(words)]


def _recase_words(words: Sequence[str]) -> list[str]:
    recased: list[str] = []
    for index, word in enumerate(words):
        inside = 0 < index < len(words) - 1
        if inside and word.lower() in _LOWERCASE_PARTICLES:
            recased.append(_lower(word))
        else:
            recased.append(_capitalise(word))
    return recased


def _upper(text: str) -> str:
    # Only one-to-one case mappings, so "ß" does not become "SS" and re-parsing is stable.
    return "".join(character.upper() if len(character.upper()) == 1 else character for character in text)


def _lower(text: str) -> str:
    return "".join(character.lower() if len(character.lower()) == 1 else character for character in text)


def _title_letter(character: str) -> str:
    titled = character.title()
    return titled if len(titled) == 1 else character


def _capitalise(word: str) -> str:
    """Capitalise each part between hyphens, apostrophes and dots: "O'BRIEN" -> "O'Brien"."""
    return "".join(
        _title_letter(segment[:1]) + _lower(segment[1:]) if segment else "" for segment in _SEGMENT_SPLIT_RE.split(word)
    )


def _display_title(word: str) -> str:
    return word if _has_both_cases(word) else _capitalise(word)


def _display_suffix(word: str) -> str:
    key = _suffix_key(word)
    pattern = _SUFFIX_CASE_PATTERNS.get(key)
    if pattern is None or key in _ROMAN_NUMERALS:
        return _upper(word)
    letters = iter(pattern)
    return "".join(next(letters, character) if character != "." else character for character in word)


# Result


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", anyascii(text).lower())


def _build(parts: _Parts, input_text: str, prepared: list[_Prepared]) -> PersonName:
    title = " ".join(_display_title(word) for word in parts.titles)
    first = " ".join(parts.first)
    middle = " ".join(parts.middle)
    last = " ".join(parts.last)
    suffix = " ".join(_display_suffix(word) for word in parts.suffixes)
    full = " ".join(piece for piece in (first, middle, last, suffix) if piece)

    notes: list[Note] = []
    if any(item.removed_characters for item in prepared):
        notes.append(
            repaired(
                "characters_removed",
                f"Removed symbols, emoji, pronouns or stray punctuation from the name {input_text!r}.",
            )
        )
    for item in prepared:
        notes.extend(
            assumed(
                "nickname_dropped",
                f"Dropped the nickname {nickname!r} from the name {input_text!r}; email patterns use the given name.",
            )
            for nickname in item.nicknames
        )
    if parts.last_name_first:
        notes.append(
            assumed(
                "last_name_first",
                f"Read the name {input_text!r} as 'Last, First' because of its comma; "
                "send first_name and last_name separately to avoid the guess.",
            )
        )

    if not first and not last and not middle:
        notes.append(
            rejected(
                "name_missing",
                f"The name {input_text!r} contains no given name or surname; send the person's name.",
            )
        )
        return replace(_rejection(notes[-1]), notes=tuple(notes))

    if parts.recased:
        notes.append(
            flagged(
                "recased",
                f"The name {input_text!r} was all upper-case or all lower-case, so its capital letters "
                f"were guessed as {full!r}.",
            )
        )
    if not first:
        notes.append(
            flagged(
                "first_name_missing",
                f"The name {input_text!r} has no first name; email patterns that need a first name or "
                "initial are skipped. Send first_name to use them.",
            )
        )
    if not last:
        notes.append(
            flagged(
                "last_name_missing",
                f"The name {input_text!r} has no last name; email patterns that need a last name are "
                "skipped. Send last_name to use them.",
            )
        )

    ascii_first, ascii_middle, ascii_last = _ascii(first), _ascii(middle), _ascii(last)
    if (first and not ascii_first) or (last and not ascii_last):
        notes.append(
            flagged(
                "ascii_form_missing",
                f"The name {input_text!r} has no ASCII transliteration, so no email patterns can be built "
                "from it; send a Latin-script spelling as well.",
            )
        )
    return PersonName(
        title=title,
        first=first,
        middle=middle,
        last=last,
        suffix=suffix,
        full=full,
        ascii_first=ascii_first,
        ascii_middle=ascii_middle,
        ascii_last=ascii_last,
        multiple_people=False,
        notes=tuple(notes),
    )
