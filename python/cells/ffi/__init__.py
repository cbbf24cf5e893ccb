"""The cffi binding to the portable C core (cells.ffi._cells_core).

`_binding` is the one module that imports the compiled extension; `raw` is
a thin layer over the C API; `codec` and `policy` are the safe, typed layer
(the kernel API's dataclasses in, ABI structs out and back).  Callers: the
backends in `cells.kernel`; nothing else imports this package.
"""
