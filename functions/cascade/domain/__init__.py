"""Domain models and rules: what flows through the service, independent of AWS."""
