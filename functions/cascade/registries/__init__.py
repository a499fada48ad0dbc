"""Company facts from government registries: SEC EDGAR, Companies House, GLEIF and Brønnøysund.

One adapter module per registry, the shared HTTP exchange and pacing, name resolution across
registries, and ``CompanyEnricher`` in ``service``, which ties them to the cache.
"""
