"""Run moto's Lambda functions as in-process Python handlers, so moto can execute the waterfall.

moto 5.2 executes real Amazon States Language when started with
``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``, but it runs a Lambda Task through
Docker, which these machines lack. ``route_lambda_invocations`` replaces moto's Lambda invocation with a
call to a Python handler in this process. It reports a handler's exception the way the Lambda runtime
does, so the definition's ``Retry`` and ``Catch`` match on the exception class name as they do on AWS.

This is the only module that touches moto internals. They are pinned to moto 5.2.5 and
``moto_internal_problems`` checks each one:

- ``LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)`` serves every
  Invoke call, in-process under ``mock_aws`` and over HTTP from ``ThreadedMotoServer``.
  ``LambdaSimpleBackend`` (moto's ``lambda.use_docker: False`` mode) overrides it with the same signature.
- ``LambdaBackend.get_function(function_name_or_arn, qualifier)`` resolves a name or ARN, and the function
  it returns has ``function_name``, ``function_arn``, ``timeout`` and ``memory_size``.
- The interpreter reads the error name from ``errorType`` in the payload of an invocation that came back
  with the ``x-amz-function-error`` header (``StateTaskLambda._from_error``).
- Outside ``mock_aws``, the interpreter's own Lambda client calls ``http://localhost:<MOTO_PORT>``
  (``moto.settings.moto_server_port``), so ``MOTO_PORT`` must name the server's port.
- ``moto.core.config.default_user_config["stepfunctions"]`` contains the execution switch that the server's
  ``/moto-api/config`` endpoint sets.

``faster_moto`` also replaces six of moto's per-request costs, each found in a py-spy profile of a bulk
job on the local stack, with cached or direct results:

- ``DomainDispatcherApplication.get_backend_for_host(self, host)`` lists moto's package folders on disk
  and tries every service's URL patterns for each request; its answer depends on ``host`` alone.
- ``ExecutionWorker._get_evaluation_entrypoint(self)`` parses the state machine's definition with ANTLR
  for every execution. The parse tree depends on the definition text alone, so it is kept, and a fresh
  ``Preprocessor`` still builds each execution's own components from it.
- ``lambda_eval_utils.boto_client_for(region, service, state_credentials)`` builds a new boto3 client for
  every Lambda Task. The interpreter's credentials are fixed, so one client per region, service and
  server port serves them all.
- ``json_path.parse(path)`` (jsonpath-ng's) builds a new PLY parser, tables included, for every JSONPath
  that a state reads. A parsed path depends on its text alone.
- ``SQSBackend.is_message_valid_based_on_retention_period(self, queue_name, message)`` computes all of the
  queue's attributes, which counts every message in the queue, three times for each message received,
  to read the queue's ``message_retention_period``. A job of thousands of rows made receiving quadratic.
- ``SQSBackend.send_message(self, queue_name, message_body, ...)`` computes the same attributes to read
  ``ContentBasedDeduplication``, which made queueing a job's rows quadratic too. While it runs, the three
  message counts of ``Queue`` (``approximate_number_of_messages``, ``..._delayed``, ``..._not_visible``)
  read as 0 in that thread instead, because nothing in ``send_message`` uses them.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import logging
import os
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import moto
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.core.models import botocore_stubber
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import ThreadedMotoServer
from moto.settings import moto_server_port
from moto.sqs.models import Queue, SQSBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client as interpreter_boto_client
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

MOTO_SERIES = "5.2."
EXECUTION_ROLE_NAME = "cascade-local-execution"
_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
_INVOKE_PARAMETERS = ("self", "function_name", "qualifier", "body", "headers", "response_headers")
_GET_FUNCTION_PARAMETERS = ("self", "function_name_or_arn", "qualifier")
_BACKEND_CLASSES: tuple[type[LambdaBackend], ...] = (LambdaBackend, LambdaSimpleBackend)
_BOTO_CLIENT_FOR_PARAMETERS = ("region", "service", "state_credentials")
_MAX_CACHED_JSON_PATHS = 1024
_QUEUE_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)
# Each cached parse tree is a few hundred kilobytes; the local stack deploys one definition.
_MAX_CACHED_DEFINITIONS = 8
_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LocalLambdaContext:
    """The Lambda context object handed to an in-process handler, with the attributes Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    # time.monotonic() value at which the function's configured timeout runs out.
    deadline: float
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@contextmanager
def route_lambda_invocations(handlers: Mapping[str, LambdaHandler]) -> Iterator[None]:
    """Invoke the Python handler in ``handlers`` whenever moto invokes a Lambda function of that name.

    The handler gets the decoded JSON payload and a ``LocalLambdaContext``, and its return value is
    encoded as the response payload. An exception in the handler becomes an ``Unhandled`` function error
    with the payload ``{"errorType": <class name>, "errorMessage": str(exc), "stackTrace": [...]}``, as the
    Lambda Python runtime reports it. Functions not in ``handlers`` keep moto's own behaviour.

    The patch applies to every moto backend in this process, in-process ``mock_aws`` and
    ``ThreadedMotoServer`` alike, until the block exits.
    NOTE: nested blocks must exit in reverse order of entry, because each restores what it replaced.
    """
    routes = dict(handlers)
    originals = {backend_class: backend_class.__dict__["invoke"] for backend_class in _BACKEND_CLASSES}
    for backend_class, original in originals.items():
        setattr(backend_class, "invoke", _routed_invoke(routes, original))  # noqa: B010 - replaces a method on a class
    try:
        yield
    finally:
        for backend_class, original in originals.items():
            setattr(backend_class, "invoke", original)  # noqa: B010 - restores the method replaced above


def create_lambda_functions(
    lambda_client: LambdaClient,
    iam_client: IAMClient,
    functions: Mapping[str, str],
    *,
    timeout_seconds: int = 30,
    memory_mb: int = 512,
) -> dict[str, str]:
    """Create Lambda functions in moto so that state machines can invoke them, and map each name to its ARN.

    ``functions`` maps each function name to its handler string (``package.module.function``), which
    moto only records. Each function gets a tiny placeholder zip, because ``route_lambda_invocations``
    runs the real handler in this process.
    """
    role_arn = _execution_role(iam_client)
    archive = _placeholder_archive()
    arns: dict[str, str] = {}
    for name, handler in functions.items():
        created = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": archive},
            Timeout=timeout_seconds,
            MemorySize=memory_mb,
        )
        arns[name] = created["FunctionArn"]
    return arns


def create_express_state_machine(sfn_client: SFNClient, iam_client: IAMClient, *, name: str, definition: str) -> str:
    """Create an Express state machine from rendered ASL text and return its ARN."""
    created = sfn_client.create_state_machine(
        name=name, definition=definition, roleArn=_execution_role(iam_client), type="EXPRESS"
    )
    return created["stateMachineArn"]


def enable_state_machine_execution(endpoint_url: str) -> None:
    """Make the moto server at ``endpoint_url`` execute state machines, through its ``/moto-api/config`` endpoint."""
    response = httpx.post(
        f"{endpoint_url.rstrip('/')}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}},
        timeout=10.0,
    )
    response.raise_for_status()


@contextmanager
def serve_moto(*, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``ThreadedMotoServer`` in this process, able to execute state machines, and yield its endpoint URL.

    Port 0 picks a free port. ``MOTO_PORT`` is set to the server's port for the block, because the
    state-machine interpreter calls Lambda at ``http://localhost:<MOTO_PORT>``. On exit the server's
    data is reset, the server stops, and ``MOTO_PORT`` and the execution switch get their old values.
    NOTE: ``host`` must be reachable as localhost, and only one such server per process can run Lambda
    Tasks, because ``MOTO_PORT`` is process-wide.
    """
    saved_switch = dict(default_user_config.get("stepfunctions", {}))
    saved_port = os.environ.get("MOTO_PORT")
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint_url = f"http://{bound_host}:{bound_port}"
    try:
        os.environ["MOTO_PORT"] = str(bound_port)
        enable_state_machine_execution(endpoint_url)
        yield endpoint_url
    finally:
        try:
            httpx.post(f"{endpoint_url}/moto-api/reset", timeout=10.0).raise_for_status()
        finally:
            server.stop()
            default_user_config["stepfunctions"] = saved_switch  # type: ignore[typeddict-item]
            if saved_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = saved_port


@contextmanager
def faster_moto() -> Iterator[None]:
    """Cache or sidestep, for the block, the per-request costs of moto listed in this module's docstring.

    The caches hold what moto would compute again with the same inputs, so requests behave as before.
    The patch applies to every moto server and ``mock_aws`` block in this process until the block exits.
    NOTE: nested blocks must exit in reverse order of entry, because each restores what it replaced.
    """
    original_lookup = DomainDispatcherApplication.__dict__["get_backend_for_host"]
    original_entrypoint = ExecutionWorker.__dict__["_get_evaluation_entrypoint"]
    original_client_for = lambda_eval_utils.__dict__["boto_client_for"]
    original_parse = json_path.__dict__["parse"]
    original_retention = SQSBackend.__dict__["is_message_valid_based_on_retention_period"]
    original_send = SQSBackend.__dict__["send_message"]
    original_counts = {name: Queue.__dict__[name] for name in _QUEUE_COUNTS}
    setattr(DomainDispatcherApplication, "get_backend_for_host", _memoised_backend_lookup(original_lookup))  # noqa: B010
    setattr(ExecutionWorker, "_get_evaluation_entrypoint", _cached_entrypoint())  # noqa: B010
    setattr(lambda_eval_utils, "boto_client_for", _shared_interpreter_clients(original_client_for))  # noqa: B010
    setattr(json_path, "parse", functools.lru_cache(maxsize=_MAX_CACHED_JSON_PATHS)(original_parse))  # noqa: B010
    setattr(SQSBackend, "is_message_valid_based_on_retention_period", _within_retention)  # noqa: B010
    setattr(SQSBackend, "send_message", _sending(original_send))  # noqa: B010
    for name, count in original_counts.items():
        setattr(Queue, name, _zero_while_sending(count))
    try:
        yield
    finally:
        for name, count in original_counts.items():
            setattr(Queue, name, count)
        setattr(SQSBackend, "send_message", original_send)  # noqa: B010
        setattr(SQSBackend, "is_message_valid_based_on_retention_period", original_retention)  # noqa: B010
        setattr(json_path, "parse", original_parse)  # noqa: B010
        setattr(lambda_eval_utils, "boto_client_for", original_client_for)  # noqa: B010
        setattr(ExecutionWorker, "_get_evaluation_entrypoint", original_entrypoint)  # noqa: B010
        setattr(DomainDispatcherApplication, "get_backend_for_host", original_lookup)  # noqa: B010


_send_state = threading.local()


def _sending(original: Callable[..., Any]) -> Callable[..., Any]:
    def send_message(backend: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        # moto re-enters send_message on one thread when a queue feeds a moto Lambda event source mapping.
        was_active = getattr(_send_state, "active", False)
        _send_state.active = True
        try:
            return original(backend, *args, **kwargs)
        finally:
            _send_state.active = was_active

    return send_message


def _zero_while_sending(count: property) -> property:
    def read(queue: Queue) -> int:
        if getattr(_send_state, "active", False):
            return 0
        value: int = count.__get__(queue)
        return value

    return property(read)


def _within_retention(backend: SQSBackend, queue_name: str, message: Any) -> bool:
    queue = backend.get_queue(queue_name)
    retention_seconds = int(getattr(queue, "message_retention_period"))  # noqa: B009 - set by setattr in moto
    retain_until = retention_seconds + message.sent_timestamp / 1000
    return bool(retain_until > time.time())


def _memoised_backend_lookup(original: Callable[[Any, str | None], Any]) -> Callable[[Any, str | None], Any]:
    found: dict[str | None, Any] = {}

    def get_backend_for_host(application: Any, host: str | None) -> Any:
        # moto calls this under the application's lock, but the dictionary is safe without it.
        if host not in found:
            found[host] = original(application, host)
        return found[host]

    return get_backend_for_host


def _cached_entrypoint() -> Callable[[Any], Any]:
    trees: dict[str, Any] = {}
    lock = threading.Lock()

    def get_evaluation_entrypoint(worker: Any) -> Any:
        definition: str = worker._evaluation_details.state_machine_details.definition
        with lock:
            tree = trees.get(definition)
        if tree is None:
            # Raises ASLParserException for a definition with syntax errors, as moto's own method does.
            _, tree = AmazonStateLanguageParser.parse(definition)
            with lock:
                if len(trees) >= _MAX_CACHED_DEFINITIONS:
                    trees.clear()
                trees[definition] = tree
        return Preprocessor().visit(tree)

    return get_evaluation_entrypoint


def _shared_interpreter_clients(original: Callable[..., Any]) -> Callable[..., Any]:
    clients: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # Under mock_aws moto intercepts the client's requests instead; keep its own behaviour there.
        if botocore_stubber.enabled:
            return original(region, service, state_credentials)
        key = (region, service, moto_server_port())
        with lock:
            client = clients.get(key)
            if client is None:
                client = clients[key] = original(region, service, state_credentials)
        return client

    return boto_client_for


def moto_internal_problems() -> list[str]:
    """List each moto internal this module relies on that is missing or changed, or nothing when all match."""
    problems: list[str] = []
    if not moto.__version__.startswith(MOTO_SERIES):
        problems.append(f"moto is {moto.__version__}, but the Lambda bridge was written for moto {MOTO_SERIES}x")
    for backend_class in _BACKEND_CLASSES:
        invoke = backend_class.__dict__.get("invoke")
        if invoke is None:
            problems.append(f"{backend_class.__name__} no longer defines invoke")
            continue
        parameters = tuple(inspect.signature(invoke).parameters)
        if parameters != _INVOKE_PARAMETERS:
            problems.append(f"{backend_class.__name__}.invoke takes {parameters}, expected {_INVOKE_PARAMETERS}")
    get_function = getattr(LambdaBackend, "get_function", None)
    if get_function is None:
        problems.append("LambdaBackend no longer defines get_function")
    elif tuple(inspect.signature(get_function).parameters) != _GET_FUNCTION_PARAMETERS:
        found = tuple(inspect.signature(get_function).parameters)
        problems.append(f"LambdaBackend.get_function takes {found}, expected {_GET_FUNCTION_PARAMETERS}")
    if not callable(getattr(interpreter_boto_client, "moto_server_port", None)):
        problems.append("the interpreter's boto client no longer reads the server port from moto_server_port")
    problems.extend(_cached_internal_problems())
    if "execute_state_machine" not in default_user_config.get("stepfunctions", {}):
        problems.append('moto.core.config.default_user_config["stepfunctions"] has no execute_state_machine switch')
    return problems


def _cached_internal_problems() -> list[str]:
    return _dispatch_and_interpreter_problems() + _sqs_problems()


def _changed_signature(owner: Any, name: str, expected: tuple[str, ...]) -> str | None:
    """Describe how ``owner.name`` differs from a function taking ``expected``, or return ``None`` if it matches."""
    function = owner.__dict__.get(name)
    if function is None:
        return f"{owner.__name__}.{name} is missing"
    found = tuple(inspect.signature(function).parameters)
    if found != expected:
        return f"{owner.__name__}.{name} takes {found}, expected {expected}"
    return None


def _dispatch_and_interpreter_problems() -> list[str]:
    checks = [
        (DomainDispatcherApplication, "get_backend_for_host", ("self", "host")),
        (ExecutionWorker, "_get_evaluation_entrypoint", ("self",)),
        (lambda_eval_utils, "boto_client_for", _BOTO_CLIENT_FOR_PARAMETERS),
    ]
    problems = [problem for check in checks if (problem := _changed_signature(*check)) is not None]

    if not hasattr(botocore_stubber, "enabled"):
        problems.append("moto's botocore_stubber no longer has an enabled flag")
    if "evaluation_details" not in inspect.signature(ExecutionWorker).parameters:
        problems.append("ExecutionWorker no longer takes evaluation_details")
    parsed = AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}')
    if not (isinstance(parsed, tuple) and len(parsed) == 2):
        problems.append("AmazonStateLanguageParser.parse no longer returns (program, parse tree)")
    if not callable(getattr(Preprocessor, "visit", None)):
        problems.append("the ASL Preprocessor has no visit method")
    if not callable(json_path.__dict__.get("parse")):
        problems.append("moto's json_path module no longer imports jsonpath-ng's parse")
    return problems


def _sqs_problems() -> list[str]:
    problems: list[str] = []
    retention = _changed_signature(
        SQSBackend, "is_message_valid_based_on_retention_period", ("self", "queue_name", "message")
    )
    if retention is not None:
        problems.append(retention)
    if "send_message" not in SQSBackend.__dict__:
        problems.append("SQSBackend no longer defines send_message")

    problems.extend(
        f"moto's SQS Queue.{name} is no longer a property"
        for name in _QUEUE_COUNTS
        if not isinstance(Queue.__dict__.get(name), property)
    )
    canary_queue = Queue("canary", "us-east-1", "123456789012")  # type: ignore[abstract]
    if "message_retention_period" not in canary_queue.__dict__:
        problems.append("moto's SQS Queue no longer keeps message_retention_period")
    return problems


def _routed_invoke(routes: Mapping[str, LambdaHandler], original: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(  # noqa: PLR0917 - the signature of moto's LambdaBackend.invoke
        backend: LambdaBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> str | bytes | None:
        function = backend.get_function(function_name, qualifier)
        handler = routes.get(function.function_name)
        if handler is None:
            moto_payload: str | bytes | None = original(
                backend, function_name, qualifier, body, headers, response_headers
            )
            return moto_payload
        invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        payload = _run_handler(handler, function, body, invocation_type, response_headers)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    return invoke


def _run_handler(
    handler: LambdaHandler, function: Any, body: Any, invocation_type: str, response_headers: dict[str, str]
) -> bytes:
    if invocation_type == "DryRun":
        return b""
    event = _decode_event(body)
    context = LocalLambdaContext(
        function_name=function.function_name,
        invoked_function_arn=function.function_arn,
        memory_limit_in_mb=int(function.memory_size),
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function.function_name}",
        log_stream_name=f"local/[$LATEST]{uuid.uuid4().hex}",
        deadline=time.monotonic() + float(function.timeout),
    )
    # Like the Lambda runtime, every exception the handler raises is reported to the caller, not raised here.
    try:
        result = handler(event, context)
    except Exception as exc:
        if invocation_type == "Event":
            _logger.exception("asynchronous invocation of %s failed", function.function_name)
            return b""
        response_headers["x-amz-function-error"] = "Unhandled"
        return _error_payload(type(exc).__name__, str(exc), traceback.format_tb(exc.__traceback__))
    if invocation_type == "Event":
        return b""
    try:
        return json.dumps(result).encode("utf-8")
    except (TypeError, ValueError) as exc:
        # The Lambda Python runtime's name for a return value that json cannot encode.
        response_headers["x-amz-function-error"] = "Unhandled"
        return _error_payload("Runtime.MarshalError", f"Unable to marshal response: {exc}", [])


def _decode_event(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body:
        return {}
    return json.loads(body)


def _error_payload(error_type: str, message: str, stack_trace: list[str]) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": stack_trace}).encode("utf-8")


def _header(headers: Any, name: str) -> str | None:
    expected = name.lower()
    for key, value in headers.items():
        if str(key).lower() == expected:
            return str(value)
    return None


def _execution_role(iam_client: IAMClient) -> str:
    try:
        return iam_client.get_role(RoleName=EXECUTION_ROLE_NAME)["Role"]["Arn"]
    except iam_client.exceptions.NoSuchEntityException:
        created = iam_client.create_role(RoleName=EXECUTION_ROLE_NAME, AssumeRolePolicyDocument=_TRUST_POLICY)
        return created["Role"]["Arn"]


def _placeholder_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "placeholder.py",
            '"""Never run: the local stack invokes the real handler in-process through the moto bridge."""\n',
        )
    return buffer.getvalue()
