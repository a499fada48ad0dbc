"""Run one waterfall execution and wait for its output.

On AWS the waterfall is an Express state machine started with ``StartSyncExecution``, which returns
when the execution ends. moto 5.2.5 does not serve ``StartSyncExecution``, so the local stack starts the
execution and polls ``DescribeExecution`` instead. Both runners take a factory for the Step Functions
client and call it on first use, so building a runner creates no AWS client.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from cascade.observability import get_logger
from cascade.settings import Settings, Stage
from cascade.waterfall.errors import WaterfallFailedError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

SfnClientFactory = Callable[[], "SFNClient"]

POLLING_TIMEOUT_ERROR = "Cascade.PollingTimeout"
_CONNECT_TIMEOUT_SECONDS = 2


class WaterfallRunner(Protocol):
    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        """Execute the waterfall on ``state`` as execution ``name`` and return the execution's output.

        Raises ``WaterfallFailedError`` when the execution fails, times out or is aborted.
        """
        ...


class SyncExpressRunner:
    """Runs the Express state machine with ``StartSyncExecution``, which blocks until the execution ends.

    The client's read timeout must exceed the longest execution, because the call stays open until then.
    """

    def __init__(self, client_factory: SfnClientFactory, state_machine_arn: str) -> None:
        self._client_factory = client_factory
        self._state_machine_arn = state_machine_arn
        self._client: SFNClient | None = None

    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        if self._client is None:
            self._client = self._client_factory()
        response = self._client.start_sync_execution(
            stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(state)
        )
        execution_arn = response["executionArn"]
        if response["status"] != "SUCCEEDED":
            raise WaterfallFailedError(execution_arn, response["status"], response.get("error"), response.get("cause"))
        return _parse_output(execution_arn, response.get("output"))


class PollingRunner:
    """Starts the execution and polls ``DescribeExecution`` every ``poll_interval`` seconds until it ends.

    After ``timeout_seconds`` the runner stops the execution, so that no later state charges for a result
    that the caller no longer waits for, and raises ``WaterfallFailedError`` with ``POLLING_TIMEOUT_ERROR``.
    """

    def __init__(
        self,
        client_factory: SfnClientFactory,
        state_machine_arn: str,
        *,
        poll_interval: float = 0.02,
        timeout_seconds: float = 60,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError(f"invalid poll_interval {poll_interval!r}; pass a number of seconds greater than 0")
        if timeout_seconds <= 0:
            raise ValueError(f"invalid timeout_seconds {timeout_seconds!r}; pass a number of seconds greater than 0")
        self._client_factory = client_factory
        self._state_machine_arn = state_machine_arn
        self._poll_interval = poll_interval
        self._timeout_seconds = timeout_seconds
        self._client: SFNClient | None = None

    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        if self._client is None:
            self._client = self._client_factory()
        client = self._client
        started = client.start_execution(stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(state))
        execution_arn = started["executionArn"]
        deadline = time.monotonic() + self._timeout_seconds
        while True:
            described = client.describe_execution(executionArn=execution_arn)
            status = described["status"]
            if status == "SUCCEEDED":
                return _parse_output(execution_arn, described.get("output"))
            if status != "RUNNING":
                raise WaterfallFailedError(execution_arn, status, described.get("error"), described.get("cause"))
            if time.monotonic() >= deadline:
                raise self._stop(client, execution_arn)
            time.sleep(self._poll_interval)

    def _stop(self, client: SFNClient, execution_arn: str) -> WaterfallFailedError:
        cause = f"the execution was still running after {self._timeout_seconds} s"
        try:
            client.stop_execution(executionArn=execution_arn, error=POLLING_TIMEOUT_ERROR, cause=cause)
        except ClientError as error:
            get_logger().warning(
                "stopping a waterfall execution that ran too long failed",
                execution_arn=execution_arn,
                code=error.response.get("Error", {}).get("Code"),
            )
            return WaterfallFailedError(execution_arn, "RUNNING", POLLING_TIMEOUT_ERROR, cause)
        return WaterfallFailedError(execution_arn, "ABORTED", POLLING_TIMEOUT_ERROR, cause)


def _parse_output(execution_arn: str, output: str | None) -> dict[str, Any]:
    parsed = json.loads(output) if output else None
    if not isinstance(parsed, dict):
        raise ValueError(
            f"waterfall execution {execution_arn} succeeded, but its output {output!r} is not a JSON object"
        )
    return parsed


def build_runner(settings: Settings, *, longest_execution_seconds: float) -> WaterfallRunner:
    """Build the runner for ``settings``: synchronous Express on AWS, start-and-poll on the local stack.

    The Step Functions client waits up to ``longest_execution_seconds`` for an execution to end. Raises
    ``ValueError`` when ``waterfall_state_machine_arn`` is not set, because no enrichment can run.
    """
    arn = settings.waterfall_state_machine_arn
    if not arn:
        raise ValueError(
            "CASCADE_WATERFALL_STATE_MACHINE_ARN is not set; set it to the ARN of the waterfall state machine"
        )
    factory = functools.partial(_stepfunctions_client, read_timeout=longest_execution_seconds)
    if settings.stage is Stage.AWS:
        return SyncExpressRunner(factory, arn)
    # moto serves no StartSyncExecution, so the local stack starts the execution and polls it.
    return PollingRunner(factory, arn, timeout_seconds=longest_execution_seconds)


def _stepfunctions_client(*, read_timeout: float) -> SFNClient:
    import boto3  # noqa: PLC0415 - boto3 costs about 100 ms to import; only the first enrichment pays it
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=_CONNECT_TIMEOUT_SECONDS,
        read_timeout=read_timeout,
        # A retried StartSyncExecution runs the waterfall again. That costs time but never money,
        # because the second run charges the same match ids.
        retries={"mode": "standard", "max_attempts": 2},
    )
    return boto3.client("stepfunctions", config=config)
