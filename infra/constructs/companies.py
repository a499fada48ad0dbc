"""Permissions of the company lookups: the companies cache table and the Companies House key.

Two functions look companies up: the API function (``POST /v1/companies/enrich``) and the waterfall's
plan function (the company block of each person result). Each may read and write the companies
table, whose name reaches it as ``CASCADE_COMPANIES_TABLE`` through ``Data.environment``, and read
the secret ``<provider_secret_prefix>companies_house``, which contains ``{"api_key": "..."}``.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cascade.registries.models import Registry
from cascade.settings import Settings
from infra.constructs.data import Data
from infra.constructs.lambda_function import CascadeFunction

# Secrets Manager appends "-" and 6 random characters to every secret's ARN. Six "?" match exactly
# those, so the grant covers this one secret and no other with the same prefix.
_ARN_RANDOM_SUFFIX = "-??????"


class CompanyLookups(Construct):
    """Grants the companies table and the Companies House secret to each function that looks companies up."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        settings: Settings,
        functions: tuple[CascadeFunction, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret_arn = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{settings.provider_secret_prefix}{Registry.COMPANIES_HOUSE.value}{_ARN_RANDOM_SUFFIX}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        table = data.tables["companies"]
        for lookup_function in functions:
            table.grant_read_write_data(lookup_function.function)
            lookup_function.function.add_to_role_policy(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.secret_arn])
            )
