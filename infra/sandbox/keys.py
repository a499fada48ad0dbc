"""The credentials the sandbox accepts, per provider, in the shape each adapter reads them.

The local stack and the tests configure the adapters with exactly these values; any other
key gets the vendor's own 401 answer from the sandbox.
"""

from __future__ import annotations

SANDBOX_CREDENTIALS: dict[str, dict[str, str]] = {
    "hunter": {"api_key": "sandbox-hunter-key"},
    "prospeo": {"api_key": "sandbox-prospeo-key"},
    "peopledatalabs": {"api_key": "sandbox-pdl-key"},
    "apollo": {"api_key": "sandbox-apollo-key"},
    "leadmagic": {"api_key": "sandbox-leadmagic-key"},
    "findymail": {"api_key": "sandbox-findymail-key"},
    "lusha": {"api_key": "sandbox-lusha-key"},
    "zerobounce": {"api_key": "sandbox-zerobounce-key"},
    "neverbounce": {"api_key": "sandbox-neverbounce-key"},
    "millionverifier": {"api_key": "sandbox-millionverifier-key"},
    "twilio": {"account_sid": "ACsandbox0000000000000000000000000", "auth_token": "sandbox-twilio-token"},
    "companies_house": {"api_key": "sandbox-companies-house-key"},
}
