"""The HTTP contract: the OpenAPI document and, later, routing and problem documents."""
