"""Bulk CSV jobs: parse an uploaded file, enrich each row through the waterfall, write the results file."""
