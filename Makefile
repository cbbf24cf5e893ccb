# Cells for NetBSD -- top-level entry points.
#
#   make demo          set up .venv and run the demo on the sim backend
#   make test          every test tier this machine can run
#   make bench         benchmarks (not part of the pass/fail run)
#   make kmod-check NETBSD_SYS=/path/to/sys
#                      compile the kernel sources against real NetBSD headers
#   make qemu-test NETBSD_RELEASE=10.1 [NETBSD_SETS=URL-or-dir]
#                      install NetBSD in QEMU and test the module there
#   make ktest NETBSD_KERNEL=/path/to/netbsd NETBSD_SYS=/path/to/sys
#                      boot a NetBSD kernel under QEMU with the module
#                      (preloaded and modctl-loaded) and run the in-kernel
#                      tests; ktest-fixtures records the module's answers
#                      for the netbsd backend's tests, ktest-bench measures
#                      its cost in that kernel

PYTHON?=	python3
VENV?=		.venv
VPY=		$(VENV)/bin/python
NETBSD_SYS?=
NETBSD_KERNEL?=
# Extra arguments for python -m ci.ktest (e.g. --make nbmake-amd64).
KTEST_ARGS?=
KTEST=		$(VPY) -m ci.ktest
KTEST_IN=	--kernel "$(NETBSD_KERNEL)" --sys "$(NETBSD_SYS)" $(KTEST_ARGS)

.PHONY: all prereq venv demo test test-c test-kmod test-ktest test-py lint \
	bench kmod-check qemu-test ktest ktest-fixtures ktest-bench ktest-inputs \
	clean

all: test

# C compiler, Python >= 3.10 with venv and headers: checked first, each
# missing one named with the package that provides it.
prereq:
	@sh ci/prereq "$(PYTHON)"

$(VENV)/.installed: pyproject.toml setup.py
	@sh ci/prereq "$(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	sh examples/demo.sh

test: prereq test-c test-kmod test-ktest lint test-py

test-c:
	$(MAKE) -C tests/c test

test-kmod:
	@if [ -n "$(NETBSD_SYS)" ]; then \
		$(MAKE) kmod-check NETBSD_SYS="$(NETBSD_SYS)"; \
	else \
		echo "kmod-check: skipped: set NETBSD_SYS=/path/to/netbsd/sys" \
		    "to compile the kernel module against NetBSD headers"; \
	fi

kmod-check:
	$(MAKE) -f kmod/secmodel_cell/Makefile.check NETBSD_SYS="$(NETBSD_SYS)"

# The boot-test tier runs in make test when a kernel and its tree are given.
test-ktest:
	@if [ -n "$(NETBSD_KERNEL)" ] && [ -n "$(NETBSD_SYS)" ]; then \
		$(MAKE) ktest; \
	else \
		echo "ktest: skipped: set NETBSD_KERNEL=/path/to/netbsd" \
		    "NETBSD_SYS=/path/to/sys to boot the module in a real kernel"; \
	fi

ktest-inputs:
	@if [ -z "$(NETBSD_KERNEL)" ] || [ -z "$(NETBSD_SYS)" ]; then \
		echo "ktest: pass NETBSD_KERNEL=/path/to/netbsd (an amd64" \
		    "kernel with options MODULAR) and NETBSD_SYS=/path/to/sys" \
		    "(the tree it was built from)" >&2; \
		exit 2; \
	fi

ktest: venv ktest-inputs
	$(KTEST) test $(KTEST_IN)

ktest-fixtures: venv ktest-inputs
	$(KTEST) record $(KTEST_IN)

ktest-bench: venv ktest-inputs
	$(KTEST) bench $(KTEST_IN)

lint: venv
	$(VENV)/bin/ruff check python tests/python tests/corpus ci bench
	$(VENV)/bin/ruff format --check python tests/python tests/corpus ci bench
	$(VENV)/bin/mypy

test-py: venv
	$(VENV)/bin/pytest -q tests/python ci/qemu/tests ci/ktest/tests

# Every benchmark runs even when an earlier one misses its target.
bench: venv
	@rc=0; $(MAKE) -C tests/c bench || rc=1; $(VPY) bench/run.py || rc=1; \
	    exit $$rc

qemu-test: venv
	$(VPY) -m ci.qemu.run --release "$(NETBSD_RELEASE)" \
	    $(if $(NETBSD_SETS),--sets "$(NETBSD_SETS)") $(QEMU_TEST_ARGS)

clean:
	$(MAKE) -C tests/c clean
	rm -rf build dist python/*.egg-info
