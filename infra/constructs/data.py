"""DynamoDB tables, built from the same specs that the local stack and the tests create."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cascade.storage.schema import LEDGER, TABLES, TableSpec

_STRING = dynamodb.AttributeType.STRING


def _attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=_STRING)


class Data(Construct):
    """The ledger, usage, freshness and suppression tables.

    Every table has point-in-time recovery and AWS-managed encryption. The ledger is retained
    when the stack is deleted: it is the billing record.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.TableV2] = {spec.logical_name: self._table(spec) for spec in TABLES}

    def _table(self, spec: TableSpec) -> dynamodb.TableV2:
        table = dynamodb.TableV2(
            self,
            spec.logical_name.title().replace("_", ""),
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            time_to_live_attribute=spec.ttl_attribute,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key),
                )
                for index in spec.indexes
            ],
            removal_policy=RemovalPolicy.RETAIN if spec is LEDGER else RemovalPolicy.DESTROY,
        )
        return table

    def environment(self) -> dict[str, str]:
        """The settings variables that name each table, for every function."""
        return {f"CASCADE_{name.upper()}_TABLE": table.table_name for name, table in self.tables.items()}


def logical_id(construct: Construct) -> str:
    """Return the CloudFormation logical id of a construct's resource, as cdk-nag names it in findings."""
    default_child = construct.node.default_child
    if not isinstance(default_child, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return Stack.of(construct).get_logical_id(default_child)


def index_grant_acknowledgment(table: dynamodb.TableV2, reader: str) -> Acknowledgment:
    """Acknowledge the ``<table>/index/*`` resource that CDK's table grants add, for one table."""
    return Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(table)}.Arn>/index/*]",
        reason=f"{reader} queries this table's own secondary indexes; the wildcard covers only this table's "
        "indexes, as CDK's table grants write it.",
    )
