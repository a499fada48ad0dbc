"""Errors of the billing package. Each carries a ``detail`` for the API's problem document."""

from __future__ import annotations


class BillingError(Exception):
    """A billing request that cannot be served as sent. ``detail`` explains why and what to do."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MatchNotFoundError(BillingError):
    """No email charge of the calling key has the match id. Another key's match gets the same error."""

    def __init__(self, match_id: str) -> None:
        super().__init__(
            f"no billed email match {match_id!r} for this API key; send the match_id of an email billing line "
            "from an enrichment of this key"
        )
        self.match_id = match_id
