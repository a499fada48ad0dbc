"""Turn customer-supplied person and company inputs into canonical values.

One module per kind of input. Each public function returns the canonical value together
with ``Note`` records that say what was assumed, repaired, flagged or rejected, so that
callers can report it instead of guessing silently.
"""
