"""Industry code lists shipped with the Lambda code; ``README.md`` gives their sources and licences."""
