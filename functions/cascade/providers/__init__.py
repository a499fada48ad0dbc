"""Data providers: one module per vendor, the shared contract, and the provider registry."""
