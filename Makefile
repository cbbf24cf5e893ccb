# Cells for NetBSD -- top-level entry points.
#
#   make demo          set up .venv and run the demo on the sim backend
#   make test          every test tier this machine can run
#   make bench         benchmarks (not part of the pass/fail run)
#   make kmod-check NETBSD_SYS=/path/to/sys
#                      compile the kernel sources against real NetBSD headers
#   make qemu-test NETBSD_RELEASE=10.1 [NETBSD_SETS=URL-or-dir]
#                      install NetBSD in QEMU and test the module there

PYTHON?=	python3
VENV?=		.venv
VPY=		$(VENV)/bin/python
NETBSD_SYS?=

.PHONY: all venv demo test test-c test-kmod test-py lint bench kmod-check \
	qemu-test clean

all: test

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	sh examples/demo.sh

test: test-c test-kmod lint test-py

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

lint: venv
	$(VENV)/bin/ruff check python tests/python tests/corpus ci bench
	$(VENV)/bin/ruff format --check python tests/python tests/corpus ci bench
	$(VENV)/bin/mypy

test-py: venv
	$(VENV)/bin/pytest -q tests/python ci/qemu/tests

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
