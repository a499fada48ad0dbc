"""The embedded local stack: moto and the provider sandbox in one process, with no AWS account."""
