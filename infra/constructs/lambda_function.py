"""The one way every Cascade Lambda is built.

Each function gets the same runtime, architecture, JSON log format, X-Ray tracing, log
retention and Powertools settings, and a role of its own that may write only to its own
log group. Every further permission is granted by the caller through ``grant_*``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True)
class FunctionSpec:
    """The settings that differ between Cascade's functions; ``CascadeFunction`` fixes everything else."""

    handler: str
    description: str
    memory_mb: int = 512
    timeout: Duration = field(default_factory=lambda: Duration.seconds(10))
    environment: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None


class CascadeFunction(Construct):
    """A Lambda function built from the ``functions/`` package and the shared dependencies layer."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        dependencies: lambda_.ILayerVersion,
        shared_environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {construct_id}",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=["**/__pycache__", "**/*.pyc", "*.egg-info"]),
            layers=[dependencies],
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=spec.reserved_concurrency,
            environment={
                "POWERTOOLS_SERVICE_NAME": "cascade",
                "POWERTOOLS_METRICS_NAMESPACE": "Cascade",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "CASCADE_STAGE": "aws",
                **shared_environment,
                **spec.environment,
            },
        )
