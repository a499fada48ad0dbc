"""Reuse the bulk harness (moto, in-process waterfall) for the attack tests."""

from tests.integration.bulk.conftest import harness, plan

__all__ = ["harness", "plan"]
