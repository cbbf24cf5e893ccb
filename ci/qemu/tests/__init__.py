"""Linux tests of the QEMU tier's own logic (no guest is booted here)."""
