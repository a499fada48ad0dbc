"""The provider sandbox: every vendor's wire protocol on loopback, over a synthetic directory.

Adapters reach it only through their base URL. Test keys (``cas_test_...``), the tests and
the local stack always use it; nothing in it reaches a real vendor.
"""
