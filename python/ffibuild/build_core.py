"""cffi builder for `cells.ffi._cells_core` (out-of-line API mode).

setup.py names `ffibuilder` in cffi_modules, so `pip install .` and
`pip install -e .` compile the extension.  The declarations are read from
the real headers -- only the part between the `cffi:begin` and `cffi:end`
markers, in a fixed order -- and the sources are the portable core
(kmod/secmodel_cell/core/*.c) plus cells_shim.c from this folder.  The
package version and CELL_ABI_VERSION are stamped into the extension so
`cells.ffi._binding` can refuse a stale build at import.

When setuptools loads this file it also writes the byte code of the
package next to its sources (`compile_package()`): an editable install
is otherwise imported from source until Python happens to write the cache
itself, which it never does under PYTHONDONTWRITEBYTECODE, and compiling
every module costs the command-line tools several milliseconds per run.
A regular install gets its byte code from pip.  A stale cache is harmless:
Python checks each file's size and mtime and ignores a mismatch.

Build with `pip install -e .` (in place) or `pip install .`.  This folder
is not part of the importable package.
"""

from __future__ import annotations

import compileall
import py_compile
import re
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
TOP = HERE.parent.parent
CORE = TOP / "kmod" / "secmodel_cell" / "core"

#: Headers whose marked part becomes the cdef, in this order.
HEADERS = (CORE / "cell_abi.h", CORE / "cell_core.h", HERE / "cells_shim.h")

BEGIN = "/* cffi:begin */"
END = "/* cffi:end */"


def marked_part(path: Path) -> str:
    """The text between the cffi markers of one header."""
    text = path.read_text(encoding="utf-8")
    start = text.find(BEGIN)
    stop = text.find(END, start + 1)
    if start < 0 or stop < 0:
        raise SystemExit(f"{path}: missing '{BEGIN}' ... '{END}' markers")
    return text[start + len(BEGIN) : stop]


def package_version() -> str:
    """`__version__` of python/cells/__init__.py, read without importing."""
    init = (TOP / "python" / "cells" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', init, re.MULTILINE)
    if match is None:
        raise SystemExit("python/cells/__init__.py: no __version__ line")
    return match.group(1)


STAMP_CDEF = """
#define CELLS_BUILD_ABI ...
static const char CELLS_BUILD_VERSION[];
"""


def build() -> FFI:
    """The builder; paths below the current directory stay relative
    (setuptools wants that)."""

    def path(p: Path) -> str:
        if p.is_relative_to(Path.cwd()):
            return str(p.relative_to(Path.cwd()))
        return str(p)

    sources = sorted(CORE.glob("*.c"))
    if not sources:
        raise SystemExit(f"{CORE}: no core sources (*.c) to compile")
    ffi = FFI()
    ffi.cdef("".join(marked_part(h) for h in HEADERS) + STAMP_CDEF)
    ffi.set_source(
        "cells.ffi._cells_core",
        f"""
#include "cell_abi.h"
#include "cell_core.h"
#include "cells_shim.h"

#define CELLS_BUILD_ABI CELL_ABI_VERSION
static const char CELLS_BUILD_VERSION[] = "{package_version()}";
""",
        sources=[path(p) for p in (*sources, HERE / "cells_shim.c")],
        include_dirs=[path(CORE), path(HERE)],
        extra_compile_args=["-std=gnu11"],  # C11: the ABI header's _Static_asserts
    )
    return ffi


def compile_package() -> None:
    """Write the byte code of python/cells (timestamp-checked, like the
    cache Python writes itself).  A module that does not compile is
    reported by compileall and left to fail at its import."""
    compileall.compile_dir(
        str(TOP / "python" / "cells"),
        quiet=1,
        invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
    )


ffibuilder = build()
if __name__ == "__cffi__":  # loaded by setuptools for cffi_modules
    compile_package()
