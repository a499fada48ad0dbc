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
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import os
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
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.utils import boto_client as interpreter_boto_client

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
    if "execute_state_machine" not in default_user_config.get("stepfunctions", {}):
        problems.append('moto.core.config.default_user_config["stepfunctions"] has no execute_state_machine switch')
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
