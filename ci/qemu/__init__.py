"""The QEMU/anita tier: the real secmodel_cell module in a real NetBSD.

`python -m ci.qemu.run` (called by `make qemu-test`) installs a NetBSD
release with gson's anita, boots it with the project tree attached, builds
and loads the module in the guest, runs the in-guest ATF tests and brings
their results back.  The modules here are small and separately tested on
Linux (ci/qemu/tests): configuration and sets, QEMU arguments, the anita
check, images, steps with time limits, and result parsing.
"""
