"""Notes that normalisers attach to their results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NoteKind(StrEnum):
    """What a normaliser did with an input beyond plain reformatting."""

    ASSUMED = "assumed"
    REPAIRED = "repaired"
    FLAGGED = "flagged"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Note:
    """One thing a normaliser assumed, repaired, flagged or rejected.

    ``code`` is a stable snake_case identifier for programs; ``message`` is a sentence for
    people that names the value and, for rejections, what to send instead.
    """

    kind: NoteKind
    code: str
    message: str


def rejected(code: str, message: str) -> Note:
    return Note(NoteKind.REJECTED, code, message)


def repaired(code: str, message: str) -> Note:
    return Note(NoteKind.REPAIRED, code, message)


def assumed(code: str, message: str) -> Note:
    return Note(NoteKind.ASSUMED, code, message)


def flagged(code: str, message: str) -> Note:
    return Note(NoteKind.FLAGGED, code, message)


def has_rejection(notes: tuple[Note, ...]) -> bool:
    return any(note.kind is NoteKind.REJECTED for note in notes)
