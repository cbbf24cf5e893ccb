"""The boot-test tier: the real secmodel_cell in a real NetBSD kernel, in seconds.

`python -m ci.ktest` (called by `make ktest`) builds the module against a
NetBSD `sys/` tree with the kernel's code-generation flags, builds the
in-kernel test program (tests/kernel/cellktest.c) as a freestanding
/sbin/init, puts both on a bare FFS root image, and boots the given amd64
kernel under QEMU with GRUB: once with the module preloaded by the boot
loader, once loaded by init with modctl(2) after boot.  The console is
the only channel back; a panic, a ddb prompt, a hang or a missing result
fails the run.  Modules: build (compilers), image (root image and boot
ISO), boot (QEMU and the console), results (parsing), fixtures (the
Python backend's recorded answers), bench (cost in a real kernel).
"""
