"""The embedded local stack: Cascade's API, waterfall and tables on one machine, with no AWS account.

``LocalStack.start()`` starts, all on 127.0.0.1:

- moto's ``ThreadedMotoServer`` (DynamoDB, S3, SQS, Step Functions, Lambda, IAM, Secrets Manager),
  with the tables of ``cascade.storage.schema.TABLES`` under the names the settings give them;
- the four waterfall Lambda functions in moto, whose invocations run the real handlers in this
  process, and the Express state machine from the same generated definition that CDK deploys;
- the provider sandbox and its loopback DNS server for MX lookups;
- the API gateway (``infra.local.gateway``), which serves the API Lambda behind the authorizer;
- the buckets and queues of ``cascade.storage.schema`` (``infra.local.bulk_resources``), and an event
  pump (``infra.local.pump``) that feeds each bulk queue's messages to its handler in this process.

It sets the environment that the handlers read before any settings are read: ``AWS_*`` points at
moto with fake credentials, and ``CASCADE_*`` at the sandbox. It then installs collaborators built
from those settings, so that a second stack in the same process never reuses the first one's
clients. ``stop()`` undoes all of it. State lives in memory and is gone after ``stop()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from infra.bulk_consumers import CONSUMERS, DEFAULT_WORKER_MAX_CONCURRENCY, WORKER_CONSUMER
from infra.local.bulk_resources import (
    bucket_names,
    create_buckets,
    create_queues,
    notify_ingest_queue,
    queue_environment,
)
from infra.local.gateway import (
    INTEGRATION_TIMEOUT_SECONDS,
    OPENAPI_PATH,
    ApiGateway,
    GatewayRequest,
    GatewayServer,
    RouteTable,
    local_lambda_context,
    proxy_event,
)
from infra.local.moto_bridge import (
    LambdaHandler,
    create_express_state_machine,
    create_lambda_functions,
    faster_moto,
    route_lambda_invocations,
    serve_moto,
)
from infra.local.moto_serial import serialized_dynamodb
from infra.local.pump import EventPump, QueueBinding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from cascade.bulk.services import BulkServices
    from cascade.domain.keys import ApiKey, KeyMode
    from cascade.domain.plans import KeyPlan
    from cascade.settings import Settings
    from cascade.storage.keys import ApiKeyRepository
    from cascade.storage.ledger import LedgerRepository
    from infra.sandbox.server import RunningSandbox

DEFAULT_REGION = "us-east-1"
# moto accepts any credentials, so these only keep boto3 from looking for real ones.
FAKE_CREDENTIAL = "testing"
STATE_MACHINE_NAME = "cascade-waterfall"
API_HANDLER = "cascade.handlers.api.handler"
AUTHORIZER_HANDLER = "cascade.handlers.authorizer.handler"
# Definition placeholder -> (function name in moto, handler string), the same handlers CDK deploys.
WATERFALL_FUNCTIONS: Mapping[str, tuple[str, str]] = {
    "PlanFunctionArn": ("cascade-waterfall-plan", "cascade.handlers.waterfall_plan.handler"),
    "StepFunctionArn": ("cascade-waterfall-step", "cascade.handlers.waterfall_step.handler"),
    "RecordFailureFunctionArn": ("cascade-waterfall-failure", "cascade.handlers.waterfall_failure.handler"),
    "SettleFunctionArn": ("cascade-waterfall-settle", "cascade.handlers.waterfall_settle.handler"),
}
_HEALTH_POLL_SECONDS = 0.05
# Pace of the local stack's requests to the sandbox's GLEIF and Brønnøysund, which enforce no limit.
SANDBOX_REGISTRY_REQUESTS_PER_SECOND = 50
# How often the bulk worker's waterfall runner calls DescribeExecution, and how long it waits for one execution.
ROW_POLL_SECONDS = 0.1
ROW_EXECUTION_SECONDS = 300


@dataclass(frozen=True, slots=True)
class LocalEndpoints:
    """The URLs of a started stack and the ARN of its waterfall state machine."""

    api_url: str
    aws_endpoint_url: str
    sandbox_url: str
    mx_nameserver: str
    region: str
    state_machine_arn: str


class LocalStack:
    """Every part of the local stack that the module docstring lists, started and stopped in this process.

    ``port`` is the API's TCP port (0 picks a free one), and every other part takes a free port.
    ``authorizer_cache_seconds`` is how long an authorizer decision is reused. The default of 60 matches
    the deployed authorizer's own key cache, because the deployed API Gateway cache is off.
    ``worker_concurrency`` is how many row batches the bulk worker handles at once, like the deployed
    worker's maximum concurrency.
    NOTE: one stack per process at a time, because the environment, the installed collaborators and
    the moto Lambda routing are process-wide.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        region: str = DEFAULT_REGION,
        authorizer_cache_seconds: float = 60,
        sandbox_seed: int = 11,
        worker_concurrency: int = DEFAULT_WORKER_MAX_CONCURRENCY,
    ) -> None:
        if worker_concurrency < 1:
            raise ValueError(f"worker_concurrency {worker_concurrency} is below 1; pass 1 or more")
        self._worker_concurrency = worker_concurrency
        self._port = port
        self._region = region
        self._authorizer_cache_seconds = authorizer_cache_seconds
        self._sandbox_seed = sandbox_seed
        self._exit_stack: contextlib.ExitStack | None = None
        self._endpoints: LocalEndpoints | None = None
        self._settings: Settings | None = None
        self._gateway: ApiGateway | None = None
        self._sandbox: RunningSandbox | None = None
        self._dynamodb: DynamoDBClient | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoints(self) -> LocalEndpoints:
        if self._endpoints is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._endpoints

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._settings

    @property
    def gateway(self) -> ApiGateway:
        if self._gateway is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._gateway

    @property
    def sandbox(self) -> RunningSandbox:
        if self._sandbox is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._sandbox

    def start(self) -> LocalEndpoints:
        """Start every part and return their endpoints. On a failure, stop what was started and re-raise."""
        if self._exit_stack is not None:
            raise RuntimeError("the local stack is already running; call stop() first")
        stack = contextlib.ExitStack()
        try:
            self._endpoints = self._start_parts(stack)
        except BaseException:
            self._forget()
            stack.close()
            raise
        self._exit_stack = stack
        return self._endpoints

    def stop(self) -> None:
        """Stop every part in reverse order of start and restore the environment. A stopped stack stays stopped."""
        stack, self._exit_stack = self._exit_stack, None
        self._forget()
        if stack is not None:
            stack.close()

    def wait_until_healthy(self, timeout_seconds: float = 30) -> None:
        """Wait until the API serves its OpenAPI document and the sandbox its health check.

        Raises ``TimeoutError`` when either is not healthy after ``timeout_seconds``.
        """
        endpoints = self.endpoints
        checks = (f"{endpoints.api_url}{OPENAPI_PATH}", f"{endpoints.sandbox_url}/__sandbox/health")
        deadline = time.monotonic() + timeout_seconds
        with httpx.Client(timeout=5.0) as client:
            for url in checks:
                while True:
                    try:
                        response = client.get(url)
                        if response.status_code == 200:
                            break
                        problem = f"it returned HTTP {response.status_code} instead of 200"
                    except httpx.TransportError as error:
                        problem = f"the request failed: {error}"
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"{url} was not healthy after {timeout_seconds} s: {problem}")
                    time.sleep(_HEALTH_POLL_SECONDS)

    def api_keys(self) -> ApiKeyRepository:
        """Return a repository of the stack's API keys table."""
        from cascade.storage.keys import ApiKeyRepository  # noqa: PLC0415 - loaded only once the stack runs

        return ApiKeyRepository(self._dynamodb_client(), table=self.settings.api_keys_table)

    def ledger(self) -> LedgerRepository:
        """Return a repository of the stack's ledger and usage tables."""
        from cascade.storage.ledger import LedgerRepository  # noqa: PLC0415

        settings = self.settings
        return LedgerRepository(
            self._dynamodb_client(),
            ledger_table=settings.ledger_table,
            usage_table=settings.usage_table,
            shards=settings.usage_counter_shards,
        )

    def create_api_key(
        self,
        *,
        mode: KeyMode | None = None,
        account_id: str | None = None,
        name: str | None = None,
        plan: KeyPlan | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key (a test key unless ``mode`` is set) and return its record and the key itself.

        Without ``account_id`` the key gets a new account. Without ``plan`` it gets the settings' prices.
        """
        from cascade.domain.keys import KeyMode  # noqa: PLC0415
        from cascade.domain.plans import KeyPlan  # noqa: PLC0415

        settings = self.settings
        chosen_plan = plan or KeyPlan(email_price=settings.email_price, phone_price=settings.phone_price)
        return self.api_keys().create(
            account_id or f"acct_{secrets.token_hex(8)}",
            mode or KeyMode.TEST,
            chosen_plan,
            name,
            now=datetime.now(UTC),
        )

    def _dynamodb_client(self) -> DynamoDBClient:
        if self._dynamodb is None:
            endpoints = self.endpoints
            self._dynamodb = _client("dynamodb", endpoints.aws_endpoint_url, endpoints.region)
        return self._dynamodb

    def _forget(self) -> None:
        self._dynamodb = None
        self._endpoints = None
        self._settings = None
        self._gateway = None
        self._sandbox = None

    def _start_parts(self, stack: contextlib.ExitStack) -> LocalEndpoints:
        from cascade.settings import Settings, get_settings  # noqa: PLC0415
        from cascade.storage.dynamo import create_tables, table_names  # noqa: PLC0415
        from infra.sandbox.app import start_sandbox  # noqa: PLC0415
        from infra.sandbox.directory import default_directory  # noqa: PLC0415
        from infra.sandbox.dns import LoopbackDnsServer  # noqa: PLC0415
        from infra.sandbox.keys import SANDBOX_CREDENTIALS  # noqa: PLC0415
        from infra.waterfall_definition import default_definition  # noqa: PLC0415

        stack.enter_context(faster_moto())
        aws_endpoint_url = stack.enter_context(serve_moto(host="127.0.0.1", port=0))
        stack.enter_context(serialized_dynamodb())
        sandbox = start_sandbox(port=0, seed=self._sandbox_seed)
        stack.callback(sandbox.stop)
        dns_server = stack.enter_context(LoopbackDnsServer(default_directory()))
        mx_nameserver = f"{dns_server.host}:{dns_server.port}"

        environment = {
            **_aws_environment(aws_endpoint_url, self._region),
            "CASCADE_STAGE": "local",
            "CASCADE_SANDBOX_URL": sandbox.url,
            "CASCADE_PROVIDER_CREDENTIALS_JSON": json.dumps(SANDBOX_CREDENTIALS),
            "CASCADE_MX_NAMESERVER": mx_nameserver,
            "CASCADE_WATERFALL_STATE_MACHINE_ARN": None,
        }
        # The sandbox's GLEIF and Brønnøysund limit nothing, and every waterfall of the local stack shares one
        # process and so one pacer per registry, where AWS gives each concurrent plan function its own.
        for variable in ("CASCADE_GLEIF_REQUESTS_PER_SECOND", "CASCADE_BRREG_REQUESTS_PER_SECOND"):
            if variable not in os.environ:
                environment[variable] = str(SANDBOX_REGISTRY_REQUESTS_PER_SECOND)
        # Powertools prints metrics to standard output, which on a laptop is only noise.
        if "POWERTOOLS_METRICS_DISABLED" not in os.environ:
            environment["POWERTOOLS_METRICS_DISABLED"] = "true"
        stack.enter_context(_patched_environment(environment))
        stack.callback(get_settings.cache_clear)

        # The waterfall's ARN is not known yet, so these settings only name tables and timeouts.
        preliminary = Settings()
        create_tables(_client("dynamodb", aws_endpoint_url, self._region), table_names(preliminary))
        s3 = _client("s3", aws_endpoint_url, self._region)
        buckets = bucket_names(preliminary)
        create_buckets(s3, buckets)
        queues = create_queues(_client("sqs", aws_endpoint_url, self._region))
        notify_ingest_queue(s3, buckets["files"], queues)
        stack.enter_context(route_lambda_invocations(_waterfall_handlers()))
        state_machine_arn, account_id = _deploy_waterfall(
            aws_endpoint_url, self._region, default_definition(preliminary)
        )

        stack.enter_context(
            _patched_environment(
                {"CASCADE_WATERFALL_STATE_MACHINE_ARN": state_machine_arn, **queue_environment(queues)}
            )
        )
        get_settings.cache_clear()
        settings = get_settings()
        stack.enter_context(_installed_collaborators(settings))

        api = _import_handler(API_HANDLER)
        gateway = ApiGateway(
            api=api,
            authorizer=_import_handler(AUTHORIZER_HANDLER),
            route_templates=_route_templates(api, self._region, account_id),
            region=self._region,
            account_id=account_id,
            authorizer_cache_seconds=self._authorizer_cache_seconds,
        )
        server = GatewayServer(gateway, host="127.0.0.1", port=self._port)
        server.start()
        stack.callback(server.stop)

        pump = EventPump(
            lambda: _client("sqs", aws_endpoint_url, self._region),
            [
                QueueBinding(
                    function_name=f"cascade-bulk-{consumer.queue.logical_name}",
                    queue_url=queues[consumer.queue.logical_name].url,
                    queue_arn=queues[consumer.queue.logical_name].arn,
                    handler=_import_handler(consumer.handler),
                    batch_size=consumer.batch_size,
                    timeout_seconds=consumer.timeout_seconds,
                    max_concurrency=self._worker_concurrency if consumer is WORKER_CONSUMER else 1,
                )
                for consumer in CONSUMERS
            ],
            region=self._region,
            account_id=account_id,
        )
        pump.start()
        stack.callback(pump.stop)

        self._settings = settings
        self._gateway = gateway
        self._sandbox = sandbox
        return LocalEndpoints(
            api_url=server.url,
            aws_endpoint_url=aws_endpoint_url,
            sandbox_url=sandbox.url,
            mx_nameserver=mx_nameserver,
            region=self._region,
            state_machine_arn=state_machine_arn,
        )


def _aws_environment(endpoint_url: str, region: str) -> dict[str, str | None]:
    """Point every AWS SDK client of this process at moto, and away from the user's own AWS setup."""
    environment: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        # A profile file could name another endpoint or credentials, so both point at os.devnull.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # A service-specific endpoint (AWS_ENDPOINT_URL_DYNAMODB ...) would win over AWS_ENDPOINT_URL.
    for name in os.environ:
        if name.startswith("AWS_ENDPOINT_URL_"):
            environment[name] = None
    return environment


@contextlib.contextmanager
def _patched_environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for ``None``, remove) environment variables for the block, then restore their old values."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextlib.contextmanager
def _installed_collaborators(settings: Settings) -> Iterator[None]:
    """Install the waterfall's, the API's and the authorizer's collaborators built from ``settings``.

    Each handler module otherwise builds them once per process from the first settings it reads.
    """
    from cascade.api.authorizer import install_key_lookup  # noqa: PLC0415
    from cascade.api.company_services import install_company_facts  # noqa: PLC0415
    from cascade.api.services import build_services, install_services  # noqa: PLC0415
    from cascade.bulk.services import build_bulk_services, install_bulk_services  # noqa: PLC0415
    from cascade.handlers.bulk_webhook import get_sender  # noqa: PLC0415
    from cascade.providers.registry import ProviderRegistry  # noqa: PLC0415
    from cascade.registries.service import build_company_enricher  # noqa: PLC0415
    from cascade.storage.dynamo import client_factory  # noqa: PLC0415
    from cascade.storage.keys import ApiKeyRepository  # noqa: PLC0415
    from cascade.waterfall.companies import LazyCompanyLookup  # noqa: PLC0415
    from cascade.waterfall.dependencies import build_dependencies, install_dependencies  # noqa: PLC0415

    dependencies = build_dependencies(settings)
    install_dependencies(dependencies)
    install_services(build_services(settings))
    company_facts = build_company_enricher(settings)
    install_company_facts(company_facts)
    install_key_lookup(ApiKeyRepository(client_factory(), table=settings.api_keys_table))
    install_bulk_services(_local_bulk_services(build_bulk_services(settings), settings))
    # The webhook sender is built from the settings on first use, so a stack started earlier in this
    # process must not leave its sender behind.
    get_sender.cache_clear()
    try:
        yield
    finally:
        get_sender.cache_clear()
        install_bulk_services(None)
        install_key_lookup(None)
        install_services(None)
        install_company_facts(None)
        company_facts.close()
        install_dependencies(None)
        if isinstance(dependencies.companies, LazyCompanyLookup):
            dependencies.companies.close()
        if isinstance(dependencies.registry, ProviderRegistry):
            dependencies.registry.close()


def _local_bulk_services(services: BulkServices, settings: Settings) -> BulkServices:
    """Return ``services`` with a waterfall runner that polls each execution every ``ROW_POLL_SECONDS``.

    Rows run in the background, so a slower poll costs each row little time, while the default poll of
    the API's runner, run by every concurrent row, would keep moto busy with DescribeExecution calls.
    """
    from cascade.waterfall.runner import PollingRunner  # noqa: PLC0415

    # The local stack has pointed AWS_ENDPOINT_URL and AWS_REGION at moto before it builds any collaborator.
    endpoint_url = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_REGION", DEFAULT_REGION)
    arn = settings.waterfall_state_machine_arn
    if arn is None:
        raise RuntimeError("the waterfall state machine ARN is not set; the local stack sets it before this call")
    runner = PollingRunner(
        lambda: _client("stepfunctions", endpoint_url, region),
        arn,
        poll_interval=ROW_POLL_SECONDS,
        timeout_seconds=ROW_EXECUTION_SECONDS,
    )
    return dataclasses.replace(services, runner=runner)


def _waterfall_handlers() -> dict[str, LambdaHandler]:
    return {name: _import_handler(handler) for name, handler in WATERFALL_FUNCTIONS.values()}


def _deploy_waterfall(endpoint_url: str, region: str, definition: Mapping[str, Any]) -> tuple[str, str]:
    """Create the waterfall functions and the Express state machine in moto, and return its ARN and the account id."""
    from infra.waterfall_definition import render_definition  # noqa: PLC0415

    iam = _client("iam", endpoint_url, region)
    arns = create_lambda_functions(
        _client("lambda", endpoint_url, region),
        iam,
        dict(WATERFALL_FUNCTIONS.values()),
    )
    placeholders = {placeholder: arns[name] for placeholder, (name, _) in WATERFALL_FUNCTIONS.items()}
    state_machine_arn = create_express_state_machine(
        _client("stepfunctions", endpoint_url, region),
        iam,
        name=STATE_MACHINE_NAME,
        definition=render_definition(definition, placeholders),
    )
    # arn:aws:states:<region>:<account id>:stateMachine:<name>
    return state_machine_arn, state_machine_arn.split(":")[4]


def _route_templates(api: LambdaHandler, region: str, account_id: str) -> list[str]:
    """Return the API's resource templates: the paths of the OpenAPI document that the API itself serves."""
    request = GatewayRequest(
        method="GET", target=OPENAPI_PATH, headers=[("Host", "localhost")], body=b"", source_ip="127.0.0.1"
    )
    event = proxy_event(
        request,
        RouteTable([OPENAPI_PATH]).match(OPENAPI_PATH),
        request_id="local-stack-start",
        account_id=account_id,
        received_at=datetime.now(UTC),
    )
    result = api(event, local_lambda_context("cascade-local-api", INTEGRATION_TIMEOUT_SECONDS, region, account_id))
    status = result.get("statusCode")
    if status != 200:
        raise RuntimeError(
            f"the API returned status {status} for GET {OPENAPI_PATH}, so its routes are unknown; "
            "run the API's own tests to find the fault"
        )
    document = json.loads(result.get("body") or "{}")
    return sorted(document.get("paths", {}))


def _import_handler(handler: str) -> LambdaHandler:
    """Resolve a Lambda handler string, ``package.module.function``, as the Lambda runtime does."""
    module_name, _, function_name = handler.rpartition(".")
    function: LambdaHandler = getattr(importlib.import_module(module_name), function_name)
    return function


def _client(service: str, endpoint_url: str, region: str) -> Any:
    import boto3  # noqa: PLC0415 - boto3 loads only when a stack starts

    return boto3.client(
        service,  # type: ignore[call-overload]  # the stubs type each service name separately
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIAL,
        aws_secret_access_key=FAKE_CREDENTIAL,
    )
