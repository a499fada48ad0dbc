"""Email and phone verification: MX lookups, SMTP probing, and the combined verdicts."""
