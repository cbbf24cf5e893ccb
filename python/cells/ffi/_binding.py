"""The one module that imports the compiled extension.

It checks that the extension was built from this package (version stamp)
and for the ABI this Python code speaks, and re-exports `ffi` and `lib`.
Callers: cells.ffi.raw, cells.kernel.codec, cells.kernel.policy.
"""

from __future__ import annotations

from typing import Any

from cells import __version__
from cells.errors import AbiMismatch, BackendError

#: The layout version cells.kernel.codec encodes and decodes.
ABI_VERSION = 1

_REBUILD = "rebuild it with: pip install -e . (or pip install . for a non-editable install)"

try:
    from cells.ffi._cells_core import ffi as _ffi
    from cells.ffi._cells_core import lib as _lib
except ImportError as exc:  # pragma: no cover - depends on the build
    raise BackendError(
        f"the compiled core cells.ffi._cells_core cannot be loaded ({exc}); {_REBUILD}"
    ) from None

_built = _ffi.string(_lib.CELLS_BUILD_VERSION).decode()
if _built != __version__:
    raise BackendError(
        f"the compiled core was built for cells {_built}, this is cells {__version__}; {_REBUILD}"
    )
if _lib.CELLS_BUILD_ABI != ABI_VERSION or _lib.CELL_ABI_VERSION != ABI_VERSION:
    raise AbiMismatch(
        f"the compiled core speaks ABI {_lib.CELLS_BUILD_ABI}, this Python code ABI {ABI_VERSION}; "
        f"{_REBUILD}"
    )

ffi: Any = _ffi
lib: Any = _lib
