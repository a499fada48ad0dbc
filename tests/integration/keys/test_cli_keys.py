"""``cascade keys`` end to end: the installed command against a moto server on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cascade.domain.keys import hash_key
from cascade.storage.dynamo import create_tables
from cascade.storage.schema import TABLES

CASCADE = Path(sys.executable).with_name("cascade")
# The region that the command uses when an endpoint URL is set and no region is. The tables must be
# created in it, because moto keeps tables per region.
CLI_REGION = "us-east-1"
UNKNOWN_ID = "key_0000000000000000"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def table(moto_url: str) -> str:
    # Fresh names per test, because in-process mock_aws tests reset moto's shared backends.
    suffix = uuid.uuid4().hex[:8]
    names = {spec.logical_name: f"cli-{suffix}-{spec.logical_name.replace('_', '-')}" for spec in TABLES}
    client = boto3.client(
        "dynamodb",
        region_name=CLI_REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    create_tables(client, names)
    return names["api_keys"]


def _environment(endpoint_url: str, table: str | None = None) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "CASCADE_")) and name not in {"AWS_PROFILE"}
    }
    environment |= {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if table is not None:
        environment["CASCADE_API_KEYS_TABLE"] = table
    return environment


def _cascade(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own entry point with fixed arguments
        [str(CASCADE), "keys", *arguments], capture_output=True, text=True, check=False, env=environment, timeout=60
    )


def test_cli_keys_create_list_revoke(moto_url: str, table: str) -> None:
    environment = _environment(moto_url, table)

    created = _cascade(
        "create", "--account", "acct_cli", "--mode", "test", "--name", "CRM sync", environment=environment
    )
    assert created.returncode == 0, created.stderr
    plaintext = next(line.strip() for line in created.stdout.splitlines() if line.strip().startswith("cas_test_"))
    assert "will not be shown again" in created.stdout
    assert created.stdout.count(plaintext) == 1

    listed = _cascade("list", "--account", "acct_cli", environment=environment)
    assert listed.returncode == 0, listed.stderr
    assert plaintext[:12] in listed.stdout
    assert plaintext not in listed.stdout
    assert plaintext[12:] not in listed.stdout
    assert "active" in listed.stdout
    assert "CRM sync" in listed.stdout
    key_id = listed.stdout.splitlines()[1].split()[0]

    revoked = _cascade("revoke", key_id, environment=environment)
    assert revoked.returncode == 0, revoked.stderr
    assert f"Revoked API key {key_id}" in revoked.stdout

    listed_again = _cascade("list", "--json", environment=environment)
    assert listed_again.returncode == 0, listed_again.stderr
    keys = json.loads(listed_again.stdout)
    assert [key["key_id"] for key in keys] == [key_id]
    assert keys[0]["status"] == "revoked"
    assert keys[0]["revoked_at"] is not None
    assert plaintext[12:] not in listed_again.stdout


def test_cli_keys_create_json(moto_url: str, table: str) -> None:
    environment = _environment(moto_url)
    created = _cascade(
        "create", "--table", table, "--email-price", "0.25", "--phone-price", "0.35", "--json", environment=environment
    )
    assert created.returncode == 0, created.stderr
    document = json.loads(created.stdout)
    assert set(document) == {"key_id", "api_key", "account_id", "mode"}
    assert document["mode"] == "live"
    assert document["api_key"].startswith("cas_live_")
    assert document["account_id"].startswith("acct_")

    listed = json.loads(_cascade("list", "--table", table, "--json", environment=environment).stdout)
    assert listed[0]["plan"]["email_price"] == "0.25"
    assert listed[0]["plan"]["phone_price"] == "0.35"
    assert hash_key(document["api_key"]) not in json.dumps(listed)


def test_cli_keys_revoke_twice_reports_first(moto_url: str, table: str) -> None:
    environment = _environment(moto_url, table)
    key_id = json.loads(_cascade("create", "--json", environment=environment).stdout)["key_id"]
    assert _cascade("revoke", key_id, environment=environment).returncode == 0
    again = _cascade("revoke", key_id, environment=environment)
    assert again.returncode == 0
    assert "already revoked" in again.stdout


def test_cli_keys_revoke_unknown_id(moto_url: str, table: str) -> None:
    result = _cascade("revoke", UNKNOWN_ID, environment=_environment(moto_url, table))
    assert result.returncode == 1
    assert f"no API key has id {UNKNOWN_ID!r}" in result.stderr
    assert "cascade keys list" in result.stderr


def test_cli_keys_revoke_malformed_id(moto_url: str, table: str) -> None:
    result = _cascade("revoke", "cas_live_oops", environment=_environment(moto_url, table))
    assert result.returncode == 2
    assert "is not a key id" in result.stderr


def test_cli_keys_missing_table(moto_url: str) -> None:
    result = _cascade("list", "--table", "no-such-table", environment=_environment(moto_url))
    assert result.returncode == 1
    assert "table 'no-such-table' does not exist" in result.stderr
    assert moto_url in result.stderr


def test_cli_keys_unreachable_endpoint() -> None:
    # A port that was just free on loopback: nothing listens there, so the connection is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = _cascade("list", "--endpoint-url", url, environment=_environment("http://127.0.0.1:9"))
    assert result.returncode == 1
    assert f"could not connect to DynamoDB at {url}" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("create", "--email-price", "0.205"), "more than two decimal places"),
        (("create", "--email-price", "abc"), "not a decimal number"),
        (("create", "--account", "acct#1"), "account id 'acct#1' is invalid"),
        (("create", "--mode", "prod"), "invalid choice"),
    ],
)
def test_cli_keys_create_rejects_input(moto_url: str, table: str, arguments: tuple[str, ...], message: str) -> None:
    result = _cascade(*arguments, environment=_environment(moto_url, table))
    assert result.returncode == 2
    assert message in result.stderr


def test_cli_keys_create_rejects_control_characters_in_name(moto_url: str, table: str) -> None:
    result = _cascade("create", "--name", "CRM\x07sync", environment=_environment(moto_url, table))
    assert result.returncode == 2
    assert "control characters" in result.stderr


def test_cli_keys_loopback_needs_no_credentials(moto_url: str, table: str) -> None:
    environment = {
        name: value
        for name, value in _environment(moto_url, table).items()
        if name not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED"}
    }
    # No credentials file either: the command must not fall back to the instance-metadata lookup.
    environment |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    listed = _cascade("list", environment=environment)
    assert listed.returncode == 0, listed.stderr
