"""Continuous-integration tiers that need more than the Python test suite.

Owns nothing by itself; `ci.qemu` is the tier that boots NetBSD in QEMU and
tests the kernel module there (run by `make qemu-test`).
"""
