"""Benchmark: the cost of running a waterfall through the state machine, against a plain loop.

Both sides call the same sandbox providers over loopback HTTP, with every provider's latency
fixed at LATENCY_MS. The loop calls each adapter's ``find`` in order until the email is found.
The state machine runs the generated definition in moto's interpreter on the local stack
(plan, provider steps, settle with its DynamoDB writes). The printed ratio is state machine
time over loop time for the same people; these machines are shared, so compare ratios.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
import uuid
import warnings
from datetime import UTC, datetime

import boto3

from cascade.domain.models import AttemptOutcome, PersonEnrichmentRequest, RequestedField
from cascade.domain.plans import KeyPlan
from cascade.normalise.person import normalise_person_request
from cascade.providers.credentials import StaticCredentials
from cascade.providers.registry import ProviderRegistry
from cascade.waterfall.runner import PollingRunner
from cascade.waterfall.state import EnrichmentContext, WaterfallInput
from infra.local.stack import LocalStack
from infra.sandbox.directory import SandboxPerson, default_directory
from infra.sandbox.faults import FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS

LATENCY_MS = 50.0
ORDER = ["hunter", "prospeo", "apollo"]
PEOPLE = 15


def _request(person: SandboxPerson) -> PersonEnrichmentRequest:
    return PersonEnrichmentRequest.model_validate(
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company_domain": person.company.domain,
            "waterfall": {"order": ORDER},
            "max_age_days": 0,
        }
    )


def main() -> None:
    # moto's server and the handlers log every request; the figures are what this script prints.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    directory = default_directory()
    people = [
        person
        for person in directory.people
        if person.email_status == "valid"
        and not person.company.catch_all
        and any(directory.knows(name, person, "email") for name in ORDER)
    ][:PEOPLE]
    with LocalStack() as stack:
        stack.wait_until_healthy()
        for name in ORDER:
            stack.sandbox.state.faults.configure(name, FaultPlan(latency_ms=(LATENCY_MS, LATENCY_MS)))
        registry = ProviderRegistry(
            StaticCredentials(SANDBOX_CREDENTIALS), connect_timeout=1.0, read_timeout=5.0, base_url=stack.sandbox.url
        )
        runner = PollingRunner(
            lambda: boto3.client(
                "stepfunctions", endpoint_url=stack.endpoints.aws_endpoint_url, region_name=stack.endpoints.region
            ),
            stack.endpoints.state_machine_arn,
        )

        loop_times: list[float] = []
        machine_times: list[float] = []
        for person in people:
            request = _request(person)
            started = time.perf_counter()
            normalised = normalise_person_request(request).person
            for name in ORDER:
                finder = registry.finder(name)
                assert finder is not None
                if finder.find(normalised, frozenset({RequestedField.EMAIL})).outcome is AttemptOutcome.FOUND:
                    break
            loop_times.append(time.perf_counter() - started)

            request_id = uuid.uuid4().hex
            context = EnrichmentContext(
                key_id="key_00000000bench000",
                account_id="acct_bench",
                enrichment_id=f"enr_{request_id[:24]}",
                request_id=request_id,
                received_at=datetime.now(UTC),
                sync=True,
                plan=KeyPlan(),
            )
            state = WaterfallInput(request=request, context=context).model_dump(mode="json")
            started = time.perf_counter()
            runner.run(state, name=f"bench-{request_id[:16]}")
            machine_times.append(time.perf_counter() - started)
        registry.close()

    loop = statistics.median(loop_times)
    machine = statistics.median(machine_times)
    print(f"{len(people)} people, providers {', '.join(ORDER)}, each answering after {LATENCY_MS:.0f} ms")
    print(f"direct loop over the adapters   median {loop * 1000:7.1f} ms per person")
    print(f"state machine on the local stack median {machine * 1000:7.1f} ms per person")
    print(f"state machine / direct loop: {machine / loop:.2f}x")


if __name__ == "__main__":
    main()
