"""Errors that leave the waterfall's Lambda functions.

Step Functions matches ``Retry`` and ``Catch`` rules on the error name, which for a Python
Lambda is the exception's class name. Renaming a class therefore changes the state machine's
behaviour: the definition lists these names.
"""

from __future__ import annotations


class ProviderThrottledError(Exception):
    """A provider returned HTTP 429 (or its equivalent) and the step will not wait for it itself.

    Raised when the vendor named no delay, the delay does not fit before the deadline, or the
    step already waited for this provider twice. The state machine retries with jitter.
    """


class ProviderTransientError(Exception):
    """A provider call timed out or failed with an error worth retrying, such as HTTP 5xx."""


class WaterfallFailedError(Exception):
    """A waterfall execution ended without an output (FAILED, TIMED_OUT, ABORTED) or did not finish in time.

    ``error`` and ``cause`` are the execution's own, as Step Functions reports them, for example
    ``States.Timeout`` or a handler's exception class name with the Lambda error payload as the cause.
    A runner that stops waiting sets ``error`` to ``Cascade.PollingTimeout``.
    """

    def __init__(self, execution_arn: str, status: str, error: str | None, cause: str | None) -> None:
        self.execution_arn = execution_arn
        self.status = status
        self.error = error
        self.cause = cause
        super().__init__(
            f"waterfall execution {execution_arn} did not succeed: status {status}, "
            f"error {error or '(none reported)'}, cause {cause or '(none reported)'}"
        )
