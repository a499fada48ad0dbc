"""Domain errors and the field-level error list that the API returns with HTTP 422."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: its dotted path (``waterfall.max_amount``) and what is accepted."""

    field: str
    message: str


class InvalidInputError(ValueError):
    """Input that parsed but cannot be used, such as a name field that contains two people."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def field_errors(exc: ValidationError, model: type[BaseModel] | None = None) -> list[FieldError]:
    """Turn a pydantic ``ValidationError`` into messages that name the field and state what is accepted."""
    errors: list[FieldError] = []
    for error in exc.errors(include_url=False):
        path = _field_path(tuple(error["loc"]))
        kind = error["type"]
        if kind == "extra_forbidden":
            accepted = ", ".join(sorted(model.model_fields)) if model is not None and len(error["loc"]) == 1 else ""
            hint = f"; accepted fields are: {accepted}" if accepted else ""
            message = f"unknown field {path!r}{hint}"
        elif kind == "value_error":
            message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        else:
            message = f"{error['msg']} (got {error['input']!r})" if kind != "missing" else "this field is required"
        errors.append(FieldError(field=path, message=message))
    return errors
