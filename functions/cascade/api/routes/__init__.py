"""The HTTP API's routes, one module per resource; ``cascade.api.app`` includes each module's ``router``."""
