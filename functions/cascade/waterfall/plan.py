"""The plan step: decide which providers this enrichment calls, in which order, and what it still looks for.

In order, the plan normalises the person, builds the provider order from the request, the
key's plan or the default, and stops early for a suppressed contact. It then takes verified
values from the freshness store, leaves out fields that ``waterfall.max_amount`` cannot pay
for, drops providers that cannot return any field still sought, and records providers
without credentials as ``skipped_no_credentials``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import ValidationError

from cascade.domain.errors import FieldError, InvalidInputError
from cascade.domain.models import (
    AttemptOutcome,
    CompanySummary,
    PersonEnrichmentRequest,
    ProviderAttempt,
    RequestedField,
)
from cascade.domain.plans import KeyPlan
from cascade.normalise.person import PersonNormalisation, normalise_person_request
from cascade.observability import get_logger
from cascade.providers.registry import DEFAULT_ORDER, Availability, contact_finder_names
from cascade.storage.freshness import contact_identity
from cascade.storage.suppressions import suppression_identities
from cascade.waterfall.companies import lookup_budget_seconds, with_registry_match
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.state import (
    EnrichmentContext,
    FoundEmail,
    PlanState,
    WaterfallInput,
    WaterfallState,
    found_from_fresh,
)

# A bulk row has no HTTP client waiting, so it gets a longer budget than a synchronous request, but
# stays under the 5 minutes after which an Express execution ends.
BULK_BUDGET_SECONDS = 240


def plan_waterfall(start: WaterfallInput, dependencies: WaterfallDependencies) -> WaterfallState:
    """Build the initial state of an enrichment from its request and context.

    Raises ``InvalidInputError`` for a request that cannot identify one person or that names
    unknown providers (the API checks both before it starts an execution), and ``ValueError``
    when the key's plan names an unknown provider.
    """
    request, context = start.request, start.context
    normalisation = normalise_person_request(request)
    order = provider_order(request, context.plan)
    state = WaterfallState(
        request=request,
        context=context,
        plan=PlanState(deadline_ms=deadline_ms(context, dependencies)),
        person=normalisation.person,
        company=_company(normalisation),
    )
    logger = get_logger()

    if dependencies.suppressions.is_suppressed(context.account_id, suppression_identities(state.person)):
        state.suppressed = True
        state.done = True
        logger.info("enrichment suppressed", enrichment_id=context.enrichment_id, key_id=context.key_id)
        return state

    _look_up_company(state, dependencies)
    _take_fresh_values(state, dependencies)
    sought = [field for field in request.fields if not state.is_verified(field)]
    affordable, unaffordable = split_by_budget(sought, request.waterfall.max_amount, context.plan)
    state.plan.fields = affordable
    state.plan.unaffordable = unaffordable
    if not sought:
        state.done = True
        logger.info("waterfall planned", providers=0, enrichment_id=context.enrichment_id, key_id=context.key_id)
        return state

    ready = _ready_providers(state, order, set(affordable or unaffordable), dependencies)
    if not affordable:
        detail = "waterfall.max_amount is below the price of every field still sought"
        state.attempts.extend(_skipped(name, AttemptOutcome.SKIPPED_BUDGET, detail) for name in ready)
        ready = []

    state.plan.remaining = ready
    state.plan.next = ready[0] if ready else None
    state.done = not ready
    logger.info(
        "waterfall planned",
        providers=len(ready),
        fields=[field.value for field in affordable],
        unaffordable=[field.value for field in unaffordable],
        enrichment_id=context.enrichment_id,
        key_id=context.key_id,
    )
    return state


def _look_up_company(state: WaterfallState, dependencies: WaterfallDependencies) -> None:
    """Add the registry match to the company block.

    The lookup's time counts against the deadline, and it leaves one provider read timeout free, the time
    that the step requires before it calls a provider.
    """
    if state.company is None or dependencies.companies is None:
        return
    seconds_left = (state.plan.deadline_ms - dependencies.now_ms()) / 1000
    budget = lookup_budget_seconds(
        sync=state.context.sync,
        seconds_to_deadline=seconds_left,
        reserved_seconds=dependencies.settings.provider_read_timeout_seconds,
    )
    state.company = with_registry_match(
        state.company,
        dependencies.companies,
        country=state.person.country,
        budget_seconds=budget,
        enrichment_id=state.context.enrichment_id,
    )


def _ready_providers(
    state: WaterfallState, order: Sequence[str], sought: set[RequestedField], dependencies: WaterfallDependencies
) -> list[str]:
    """Keep the providers that can return a sought field, and record those without credentials as skipped."""
    ready: list[str] = []
    for name in order:
        if not dependencies.registry.info(name).fields & sought:
            continue
        if dependencies.registry.availability(name) is Availability.NO_CREDENTIALS:
            state.attempts.append(_skipped(name, AttemptOutcome.SKIPPED_NO_CREDENTIALS, "no credentials configured"))
        else:
            ready.append(name)
    return ready


def provider_order(request: PersonEnrichmentRequest, key_plan: KeyPlan) -> list[str]:
    """Return the contact finders to try, in order: the request's order, else the key's, else the default.

    Names listed twice keep their first place, and ``waterfall.skip`` is removed. Raises
    ``InvalidInputError`` when ``waterfall.order`` or ``waterfall.skip`` names a provider that
    is not a contact finder, and ``ValueError`` when the key's ``default_order`` does.
    """
    known = contact_finder_names()
    errors = [
        FieldError(field, _unknown_message(unknown, known))
        for field, names in (
            ("waterfall.order", request.waterfall.order or []),
            ("waterfall.skip", request.waterfall.skip),
        )
        if (unknown := _unknown(names, known))
    ]
    if errors:
        raise InvalidInputError(errors)

    if request.waterfall.order is not None:
        chosen: Sequence[str] = request.waterfall.order
    elif key_plan.default_order is not None:
        unknown = _unknown(key_plan.default_order, known)
        if unknown:
            raise ValueError(f"the API key's default_order {_unknown_message(unknown, known)}")
        chosen = key_plan.default_order
    else:
        chosen = DEFAULT_ORDER
    skipped = set(request.waterfall.skip)
    return [name for name in dict.fromkeys(chosen) if name not in skipped]


def split_by_budget(
    fields: Sequence[RequestedField], max_amount: Decimal | None, key_plan: KeyPlan
) -> tuple[list[RequestedField], list[RequestedField]]:
    """Split ``fields`` into those the row can pay for and those it cannot, taking them in request order.

    A field is affordable when its price fits in what ``max_amount`` leaves after the fields
    before it. ``None`` means no limit.
    """
    if max_amount is None:
        return list(fields), []
    affordable: list[RequestedField] = []
    unaffordable: list[RequestedField] = []
    left = max_amount
    for field in fields:
        price = key_plan.price(field)
        if price <= left:
            affordable.append(field)
            left -= price
        else:
            unaffordable.append(field)
    return affordable, unaffordable


def deadline_ms(context: EnrichmentContext, dependencies: WaterfallDependencies) -> int:
    """Return the epoch milliseconds after which no provider is called for this enrichment."""
    seconds = dependencies.settings.sync_deadline_seconds if context.sync else BULK_BUDGET_SECONDS
    return _epoch_ms(context.received_at) + int(seconds * 1000)


def _take_fresh_values(state: WaterfallState, dependencies: WaterfallDependencies) -> None:
    """Put each requested field's stored value into ``found`` when it is recent and meets this request's verdict."""
    identity = contact_identity(state.person)
    if identity is None:
        return
    request, context = state.request, state.context
    max_age_days = request.max_age_days if request.max_age_days is not None else dependencies.settings.freshness_days
    now = dependencies.clock()
    for field in request.fields:
        stored = dependencies.freshness.get(context.key_id, identity, field, max_age_days=max_age_days, now=now)
        if stored is None:
            continue
        try:
            found = found_from_fresh(stored)
        except (ValidationError, ValueError):
            get_logger().warning(
                "stored value unreadable", enrichment_id=context.enrichment_id, key_id=context.key_id, field=field.value
            )
            continue
        if isinstance(found, FoundEmail):
            state.found.email = found
        else:
            state.found.phone = found
        if not state.is_verified(field):
            # A catch-all email stored for a request that accepted it does not satisfy one that does not.
            if field is RequestedField.EMAIL:
                state.found.email = None
            else:
                state.found.phone = None


def _company(normalisation: PersonNormalisation) -> CompanySummary | None:
    company, domain = normalisation.company, normalisation.domain
    if company is None and domain is None:
        return None
    return CompanySummary(
        name=company.display if company else None,
        base_name=company.base if company else None,
        legal_form=company.legal_form if company else None,
        domain=domain.ascii if domain else None,
    )


def _skipped(provider: str, outcome: AttemptOutcome, detail: str) -> ProviderAttempt:
    return ProviderAttempt(provider=provider, outcome=outcome, latency_ms=0, detail=detail)


def _unknown(names: Sequence[str], known: Sequence[str]) -> list[str]:
    return [name for name in dict.fromkeys(names) if name not in known]


def _unknown_message(unknown: Sequence[str], known: Sequence[str]) -> str:
    listed = ", ".join(repr(name) for name in unknown)
    return f"names unknown providers {listed}; send names from: {', '.join(known)}"


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
