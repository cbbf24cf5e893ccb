"""The cffi binding to the portable C core (cells.ffi._cells_core).

`_binding` is the one module that imports the compiled extension; `raw` is
a thin layer over the C API.  This package is the binding only: it never
imports the layer above it.  The typed layer that turns the kernel API's
dataclasses into ABI structs and back is `cells.kernel.codec` (and
`cells.kernel.policy` for decisions).  Callers: the backends in
`cells.kernel`; nothing else imports this package.
"""
