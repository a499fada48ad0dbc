"""Twilio Lookup v2 as the sandbox serves it: ``GET /v2/PhoneNumbers/{PhoneNumber}``.

HTTP Basic authentication with the sandbox account SID and auth token. Every number gets a reply:
validity and the country come from libphonenumber, and with ``Fields=line_type_intelligence`` the line
type is the directory's for a person's number, else the numbering plan's. Where the plan leaves the type
open (``fixed_line_or_mobile``, as in the US), the sandbox returns ``landline`` or ``mobile`` by a stable
hash of the number, and a VoIP range is ``fixedVoip`` or ``nonFixedVoip`` the same way. An invalid number
is an HTTP 200 with ``valid: false`` and ``validation_errors``. Text that contains no phone number at all is
a 404 with Twilio's error body ``{code, message, more_info, status}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import unquote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType
from phonenumbers import ValidationResult as Possibility
from phonenumbers import carrier as carrier_names

from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

_ROUTE = r"/v2/PhoneNumbers/(?P<number>[^/]+)"
_LINE_TYPE_FIELD = "line_type_intelligence"
# Fields that Lookup v2 accepts. Only line type intelligence is emulated, and the others come back null.
_KNOWN_FIELDS = frozenset(
    {
        "caller_name",
        "sim_swap",
        "call_forwarding",
        "line_status",
        "line_type_intelligence",
        "identity_match",
        "reassigned_number",
        "sms_pumping_risk",
        "phone_number_quality_score",
        "pre_fill",
        "validation",
    }
)

# Directory line types (LineType values) to Twilio's type names. fixed_line_or_mobile and voip are
# split by hash in `_twilio_type`.
_TWILIO_TYPES = {
    "mobile": "mobile",
    "fixed_line": "landline",
    "toll_free": "tollFree",
    "premium_rate": "premium",
    "shared_cost": "sharedCost",
    "personal_number": "personal",
    "pager": "pager",
    "uan": "uan",
    "voicemail": "voicemail",
    "unknown": "unknown",
}
_PLAN_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
# Twilio names no carrier for these types.
_NO_CARRIER_TYPES = frozenset({"personal", "tollFree", "premium", "sharedCost", "uan", "voicemail", "pager", "unknown"})
_SANDBOX_CARRIERS = {"mobile": "Sandbox Mobile", "landline": "Sandbox Telecom"}
# ITU reserves mobile country code 001 and network code 01 for test networks.
_TEST_MCC, _TEST_MNC = "001", "01"
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
    NumberParseException.TOO_SHORT_NSN: "TOO_SHORT",
    NumberParseException.TOO_SHORT_AFTER_IDD: "TOO_SHORT",
    NumberParseException.TOO_LONG: "TOO_LONG",
}
_POSSIBILITY_ERRORS = {
    Possibility.TOO_SHORT: "TOO_SHORT",
    Possibility.TOO_LONG: "TOO_LONG",
    Possibility.INVALID_LENGTH: "INVALID_LENGTH",
    Possibility.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
}
_BAD_GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class TwilioSandbox:
    """Twilio Lookup v2 with Line Type Intelligence over the sandbox directory's phone facts."""

    provider = "twilio"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        credentials = SANDBOX_CREDENTIALS[self.provider]
        self._account_sid = credentials["account_sid"]
        self._auth_token = credentials["auth_token"]

    def routes(self) -> list[Route]:
        return [Route("GET", _ROUTE, self._lookup)]

    def authenticate(self, request: SandboxRequest) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return hmac.compare_digest(user.encode(), self._account_sid.encode()) and hmac.compare_digest(
            password.encode(), self._auth_token.encode()
        )

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        if kind is FaultKind.THROTTLED:
            headers = {"Retry-After": str(plan.retry_after_seconds), "Twilio-Concurrent-Requests": "101"}
            return _error(429, 20429, "Too Many Requests", headers)
        if kind is FaultKind.UNAUTHORIZED:
            return _error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if kind is FaultKind.QUOTA_EXHAUSTED:
            # NOTE: Twilio documents no out-of-credit error for Lookup. The sandbox sends what a suspended
            # account, for example one with an unpaid balance, is inferred to get: 20005 "Account not active".
            return _error(401, 20005, "Account not active")
        if kind is FaultKind.ERROR_IN_200:
            return self._lookup_failed_in_200(request)
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"phone_number": "+12015550123", "valid": True, "line_type_intelligence": None})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(502, _BAD_GATEWAY_PAGE, {"Content-Type": "text/html"})
        if kind is FaultKind.UNAVAILABLE:
            return _error(503, 20503, "Service Unavailable", {"Retry-After": "30"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply.
        return _error(500, 20500, "An internal server error has occurred")

    # Routes --------------------------------------------------------------------------------------------

    def _lookup(self, request: SandboxRequest) -> SandboxResponse:
        raw = unquote(request.path_params["number"]).strip()
        fields = {name.strip() for name in request.query.get("Fields", "").split(",") if name.strip()}
        unknown = sorted(fields - _KNOWN_FIELDS)
        if unknown:
            return _error(400, 60200, f"Invalid parameter: Fields contains {', '.join(unknown)}")
        country = request.query.get("CountryCode", "US").strip().upper() or "US"
        if not any(character.isdigit() for character in raw):
            return _not_found(raw)
        return SandboxResponse.json(200, self._answer(raw, country, _LINE_TYPE_FIELD in fields))

    # Helpers -------------------------------------------------------------------------------------------

    def _answer(self, raw: str, country: str, with_line_type: bool) -> dict[str, Any]:
        try:
            number = phonenumbers.parse(raw, None if raw.startswith("+") else country)
        except NumberParseException as error:
            return _invalid(raw, None, _PARSE_ERRORS.get(error.error_type, "NOT_A_NUMBER"), with_line_type)
        if not phonenumbers.is_valid_number(number):
            possibility = phonenumbers.is_possible_number_with_reason(number)
            return _invalid(raw, number, _POSSIBILITY_ERRORS.get(possibility, "INVALID_BUT_POSSIBLE"), with_line_type)
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        reply = _basic(raw, number, valid=True)
        reply["phone_number"] = e164
        reply["url"] = f"https://lookups.twilio.com/v2/PhoneNumbers/{e164}"
        reply["national_format"] = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        if with_line_type:
            reply[_LINE_TYPE_FIELD] = self._line_type_intelligence(number, e164)
        return reply

    def _line_type_intelligence(self, number: PhoneNumber, e164: str) -> dict[str, Any]:
        person = self._directory.match_phone(e164)
        if person is not None and person.phone_e164 == e164:
            line_type = person.phone_line_type
        else:
            line_type = _PLAN_TYPES.get(phonenumbers.number_type(number), "unknown")
        twilio_type = _twilio_type(line_type, e164)
        carrier = None
        if twilio_type not in _NO_CARRIER_TYPES:
            carrier = carrier_names.name_for_number(number, "en") or _SANDBOX_CARRIERS.get(twilio_type, "Sandbox VoIP")
        mobile = twilio_type == "mobile"
        return {
            "mobile_country_code": _TEST_MCC if mobile else None,
            "mobile_network_code": _TEST_MNC if mobile else None,
            "carrier_name": carrier,
            "type": twilio_type,
            "error_code": None,
        }

    def _lookup_failed_in_200(self, request: SandboxRequest) -> SandboxResponse:
        """Reply as Line Type Intelligence does when it reports its own failure (60600, no coverage) in an HTTP 200."""
        match = re.fullmatch(_ROUTE, request.path)
        raw = unquote(match["number"]).strip() if match else "+12015550123"
        reply = self._answer(raw, "US", with_line_type=True)
        if reply.get("valid"):
            reply[_LINE_TYPE_FIELD] = {
                "mobile_country_code": None,
                "mobile_network_code": None,
                "carrier_name": None,
                "type": None,
                "error_code": 60600,
            }
        return SandboxResponse.json(200, reply)


def _twilio_type(line_type: str, e164: str) -> str:
    if line_type == "fixed_line_or_mobile":
        return "mobile" if _spread(e164, 2) == 0 else "landline"
    if line_type == "voip":
        return "fixedVoip" if _spread(e164, 2) == 0 else "nonFixedVoip"
    return _TWILIO_TYPES.get(line_type, "unknown")


def _basic(raw: str, number: PhoneNumber | None, *, valid: bool) -> dict[str, Any]:
    region = phonenumbers.region_code_for_number(number) if number is not None else None
    return {
        "calling_country_code": str(number.country_code) if number is not None and number.country_code else None,
        "country_code": region if region and region != "ZZ" else None,
        "phone_number": raw,
        "national_format": None,
        "valid": valid,
        "validation_errors": [],
        "caller_name": None,
        "sim_swap": None,
        "call_forwarding": None,
        "line_status": None,
        _LINE_TYPE_FIELD: None,
        "identity_match": None,
        "reassigned_number": None,
        "sms_pumping_risk": None,
        "phone_number_quality_score": None,
        "pre_fill": None,
        "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{raw}",
    }


def _invalid(raw: str, number: PhoneNumber | None, reason: str, with_line_type: bool) -> dict[str, Any]:
    reply = _basic(raw, number, valid=False)
    reply["validation_errors"] = [reason]
    if with_line_type:
        # Twilio runs no package on an invalid number, so the field stays null.
        reply[_LINE_TYPE_FIELD] = None
    return reply


def _not_found(raw: str) -> SandboxResponse:
    return _error(404, 20404, f"The requested resource /PhoneNumbers/{raw} was not found")


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> SandboxResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return SandboxResponse.json(status, body, headers)


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") % buckets
