"""The enrichment waterfall: the plan, provider step, failure and settle logic behind the state machine."""
