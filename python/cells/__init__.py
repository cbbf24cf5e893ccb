"""Cells for NetBSD: the Python control plane.

`cells.kernel` is the one kernel API (NetBSD sysctl backend or the sim);
`cellctl`, `cellmgr` and `cellui` are built on it.
"""

__version__ = "0.1.0"
