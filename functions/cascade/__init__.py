"""Cascade: pay-per-match waterfall contact enrichment.

The package is the Lambda code asset. ``handlers`` holds the entry points; ``domain``,
``normalise``, ``providers`` and ``verification`` hold the logic; ``storage`` holds the
AWS adapters. Imports flow one way: handlers -> logic -> adapters.
"""
