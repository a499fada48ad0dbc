"""``POST /v1/people/enrich``: enrich one person synchronously, honouring ``Idempotency-Key``.

The route validates the body (Powertools, 422), then ``enrich_person`` normalises it (422), checks
the Idempotency-Key (400), claims the key, runs the waterfall and stores the result.

Idempotency. A request id names each request for billing. With an Idempotency-Key it is derived
from the API key and the Idempotency-Key, so a retry after a crash charges the same match ids,
which the ledger writes at most once. Without one, every request is new. The first 200 reply to a
key is stored and replayed, with ``Idempotent-Replayed: true``, to later requests with the same
body for ``idempotency_hours``. A reply that is not a 200 is not stored. The claim is released, so
a retry with the same key runs again. That covers a 503 (no provider responded, nothing was
charged), where replaying the outage for a day would help no one.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from cascade.api.caller import Caller, current_caller
from cascade.api.problems import (
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_KEY_REUSED,
    INTERNAL_ERROR,
    INVALID_IDEMPOTENCY_KEY,
    INVALID_INPUT,
    MALFORMED_REQUEST,
    PROVIDERS_UNAVAILABLE,
    REQUEST_TOO_LARGE,
    SPEND_CAP_EXCEEDED,
    STORAGE_BUSY,
    UNAUTHENTICATED,
    UNSUPPORTED_MEDIA_TYPE,
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    InvalidIdempotencyKeyError,
    ProvidersUnavailableError,
    problem_responses,
)
from cascade.api.services import ApiServices, get_services
from cascade.billing.caps import SpendCaps, worst_case_amount
from cascade.domain.models import EnrichmentResult, PersonEnrichmentRequest
from cascade.normalise.person import normalise_person_request
from cascade.observability import get_logger
from cascade.storage.dynamo import StorageError
from cascade.storage.idempotency import BeginOutcome
from cascade.waterfall.state import EnrichmentContext, SettleOutput, WaterfallInput

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY_LENGTH = 255
JSON_CONTENT_TYPE = "application/json"

# Names request ids derived from (API key id, Idempotency-Key). Changing it would change every such id.
_IDEMPOTENT_REQUEST_NAMESPACE = uuid.UUID("6f1c2b7e-3d4a-5b8c-9e0f-a1b2c3d4e5f6")
_ENRICHMENT_ID_HEX_DIGITS = 24
_IN_PROGRESS_RETRY_AFTER_SECONDS = 1
_OK = 200

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@dataclass(frozen=True, slots=True)
class EnrichReply:
    """The reply to send: its status, the JSON body, and whether it repeats an earlier reply."""

    status: int
    body: str
    replayed: bool = False


@router.post(
    "/v1/people/enrich",
    summary="Enrich one person",
    description=(
        "Find a verified business email and/or direct-dial phone for one person. Billed only for verified "
        "fields. Send an Idempotency-Key to retry safely: the same key with the same body returns the first "
        "reply and never charges twice."
    ),
    tags=["people"],
    responses={
        200: {
            "description": "The enrichment result, also when nothing was found (status not_found).",
            "content": {JSON_CONTENT_TYPE: {"model": EnrichmentResult}},
        },
        **problem_responses(
            MALFORMED_REQUEST,
            INVALID_IDEMPOTENCY_KEY,
            UNAUTHENTICATED,
            SPEND_CAP_EXCEEDED,
            IDEMPOTENCY_KEY_REUSED,
            IDEMPOTENCY_IN_PROGRESS,
            REQUEST_TOO_LARGE,
            UNSUPPORTED_MEDIA_TYPE,
            INVALID_INPUT,
            INTERNAL_ERROR,
            PROVIDERS_UNAVAILABLE,
            STORAGE_BUSY,
        ),
    },
)
def post_people_enrich(
    request: Annotated[PersonEnrichmentRequest, Body(description="The person to enrich and the fields to find.")],
    caller: Annotated[Caller, Depends(current_caller)],
    services: Annotated[ApiServices, Depends(get_services)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_KEY_HEADER,
            description="1 to 255 printable ASCII characters, unique per logical request, such as a UUID.",
        ),
    ] = None,
) -> Response[str]:
    reply = enrich_person(request, idempotency_key, caller=caller, services=services)
    headers = {REPLAYED_HEADER: "true"} if reply.replayed else {}
    return Response(status_code=reply.status, content_type=JSON_CONTENT_TYPE, body=reply.body, headers=headers)


def enrich_person(
    request: PersonEnrichmentRequest, idempotency_key: str | None, *, caller: Caller, services: ApiServices
) -> EnrichReply:
    """Enrich ``request`` for ``caller``, or replay the first reply to ``idempotency_key``.

    Raises ``InvalidInputError`` (422, also for unknown provider names), ``InvalidIdempotencyKeyError`` (400),
    ``IdempotencyKeyReusedError`` and ``IdempotencyInProgressError`` (409), ``SpendCapExceededError`` (402),
    ``ProvidersUnavailableError`` (503), and the runner's and storage's errors.
    """
    normalise_person_request(request)
    _check_provider_names(request, caller)
    key = parse_idempotency_key(idempotency_key)
    if key is None:
        return _run_waterfall(request, services.new_request_id(), caller=caller, services=services)

    begun = services.idempotency.begin(caller.key_id, key, request_hash(request), services.clock())
    if begun.outcome is BeginOutcome.REPLAY and begun.status is not None and begun.body is not None:
        get_logger().info("idempotent reply replayed", status=begun.status)
        return EnrichReply(status=begun.status, body=begun.body, replayed=True)
    if begun.outcome is BeginOutcome.MISMATCH:
        raise IdempotencyKeyReusedError(
            f"this {IDEMPOTENCY_KEY_HEADER} was first used with a different request body; send a new key for "
            "a new request, or the first body to get the first reply"
        )
    if begun.outcome is not BeginOutcome.NEW or begun.token is None:
        raise IdempotencyInProgressError(
            f"the first request with this {IDEMPOTENCY_KEY_HEADER} is still running; retry in a second",
            retry_after=_IN_PROGRESS_RETRY_AFTER_SECONDS,
        )

    try:
        reply = _run_waterfall(request, idempotent_request_id(caller.key_id, key), caller=caller, services=services)
    except Exception:
        _release(services, caller, key, begun.token)
        raise
    try:
        stored = services.idempotency.complete(
            caller.key_id, key, begun.token, status=reply.status, body=reply.body, now=services.clock()
        )
    except StorageError:
        # The enrichment is done and stored, so the client still gets it. A retry meets the unfinished claim
        # until the in-progress timeout, then runs again with the same request id and is not charged twice.
        get_logger().exception("storing the idempotent reply failed")
        return reply
    if not stored:
        # Another request took the claim over after the in-progress timeout, and its reply is stored instead.
        # Both runs used the same request id, so both replies carry the same charges.
        get_logger().warning("idempotency claim was taken over before completion")
    return reply


def parse_idempotency_key(value: str | None) -> str | None:
    """Return the Idempotency-Key header value, or ``None`` when it is absent.

    Raises ``InvalidIdempotencyKeyError`` (400) unless the value is 1 to 255 printable ASCII characters.
    """
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidIdempotencyKeyError(
            f"the {IDEMPOTENCY_KEY_HEADER} header has {len(value)} characters; send 1 to "
            f"{MAX_IDEMPOTENCY_KEY_LENGTH}, such as a UUID"
        )
    if not all(" " <= character <= "~" for character in value):
        raise InvalidIdempotencyKeyError(
            f"the {IDEMPOTENCY_KEY_HEADER} header contains characters other than printable ASCII; send letters, "
            "digits and punctuation only, such as a UUID"
        )
    return value


def idempotent_request_id(key_id: str, idempotency_key: str) -> str:
    """Return the request id of every request that ``key_id`` sends with ``idempotency_key``."""
    # The unit separator cannot occur in a key id or in a printable ASCII Idempotency-Key.
    return str(uuid.uuid5(_IDEMPOTENT_REQUEST_NAMESPACE, f"{key_id}\x1f{idempotency_key}"))


def enrichment_id_for(request_id: str) -> str:
    """Return the enrichment id of the request ``request_id``: ``enr_`` and 24 hex digits."""
    return "enr_" + hashlib.sha256(request_id.encode()).hexdigest()[:_ENRICHMENT_ID_HEX_DIGITS]


def request_hash(request: PersonEnrichmentRequest) -> str:
    """Return the SHA-256 hex digest of the validated request.

    Hashing the validated model rather than the raw bytes makes bodies that differ only in
    whitespace, key order, blank fields or spelled-out defaults count as the same request.
    """
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _run_waterfall(
    request: PersonEnrichmentRequest, request_id: str, *, caller: Caller, services: ApiServices
) -> EnrichReply:
    now = services.clock()
    _check_spend_cap(request, now.astimezone(UTC).strftime("%Y-%m"), caller=caller, services=services)
    enrichment_id = enrichment_id_for(request_id)
    get_logger().append_keys(enrichment_id=enrichment_id)

    execution_input = WaterfallInput(
        request=request,
        context=EnrichmentContext(
            key_id=caller.key_id,
            account_id=caller.account_id,
            enrichment_id=enrichment_id,
            request_id=request_id,
            received_at=now,
            sync=True,
            plan=caller.plan,
        ),
    )
    # Every attempt gets its own execution name, because a local Standard execution's name cannot be reused.
    name = f"{enrichment_id}-{uuid.uuid4().hex[:12]}"
    output = SettleOutput.model_validate(services.runner.run(execution_input.model_dump(mode="json"), name=name))

    if output.providers_unavailable:
        get_logger().warning("no provider responded", attempts=len(output.result.attempts))
        raise ProvidersUnavailableError(
            "no provider responded: every provider call failed or timed out, and nothing was charged; retry later"
        )

    result = output.result
    if result.id != enrichment_id:
        raise ValueError(f"the waterfall returned enrichment {result.id!r} for request {enrichment_id!r}")
    expires_at = now + timedelta(days=services.settings.retention_days)
    services.enrichments.put(result, key_id=caller.key_id, account_id=caller.account_id, expires_at=expires_at)
    get_logger().info("person enriched", status=result.status.value, billed_amount=str(result.billing.amount))
    return EnrichReply(status=_OK, body=result.model_dump_json())


def _check_spend_cap(request: PersonEnrichmentRequest, month: str, *, caller: Caller, services: ApiServices) -> None:
    """Raise ``SpendCapExceededError`` (402) before any provider is called when the request could pass the cap.

    An idempotent replay returns before this check, because it bills nothing.
    """
    # NOTE: concurrent requests each see the headroom before the others' charges, so together they can
    # pass the cap by up to one worst case each.
    worst_case = worst_case_amount(caller.plan, request.fields, request.waterfall.max_amount)
    SpendCaps(services.usage).check(caller.key_id, caller.plan, month, worst_case)


def _check_provider_names(request: PersonEnrichmentRequest, caller: Caller) -> None:
    """Raise ``InvalidInputError`` (422) when ``waterfall.order`` or ``waterfall.skip`` names an unknown provider.

    The plan step raises the same error, but inside the execution, which would fail it and reach the client
    as a 500.
    """
    # The registry imports every provider adapter and httpx, so only the first enrichment of a cold start
    # pays for the import, and GET requests never do.
    from cascade.waterfall.plan import provider_order  # noqa: PLC0415

    provider_order(request, caller.plan)


def _release(services: ApiServices, caller: Caller, key: str, token: str) -> None:
    try:
        services.idempotency.release(caller.key_id, key, token)
    except Exception:
        # The caller's own error matters more. The unreleased claim blocks retries until the in-progress timeout.
        get_logger().exception("releasing an idempotency claim failed")
