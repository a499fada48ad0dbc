"""Usage billing: spend caps, monthly ledger exports, reconciliation and bounce refunds."""
