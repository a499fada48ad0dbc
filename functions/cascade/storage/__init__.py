"""Storage adapters: DynamoDB repositories behind small interfaces, and the table definitions."""
