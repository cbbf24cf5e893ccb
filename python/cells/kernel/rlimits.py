"""Resource limits as people write them, parsed in one place.

`NAME=SOFT[:HARD]` with NAME one of nofile, as, core, nproc, and amounts
that are integers with an optional k, m, g or t (powers of 1024) or
`unlimited`: `nofile=1024`, `as=1g:2g`, `core=unlimited`.  In an `Rlimit`
value `UNLIMITED` stands for no limit; the ABI carries it as the largest
64-bit value, which the kernel clamps to RLIM_INFINITY, and the supervisor
turns it into `resource.RLIM_INFINITY` in the child.  Callers: cellctl
create and supervise (through cells.supervisor), the ffi codec.
"""

from __future__ import annotations

from cells.errors import InvalidArgument
from cells.kernel.api import RLIMIT_NAMES, Rlimit

#: An rlimit amount meaning "no limit" (as `resource.RLIM_INFINITY` on Linux).
UNLIMITED = -1

_SUFFIX = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_WORDS = ("unlimited", "infinity")


#: The largest amount the ABI carries (unsigned 64 bits; it means no limit).
AMOUNT_MAX = (1 << 64) - 1


def parse_amount(text: str, where: str) -> int:
    """One amount: N, Nk, Nm, Ng, Nt or `unlimited`; nothing else, not
    even a space (a stray space is a typo, not a number)."""
    value = text.lower()
    if value in _WORDS:
        return UNLIMITED
    scale = _SUFFIX.get(value[-1:], 1)
    digits = value[:-1] if scale != 1 else value
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidArgument(
            f"rlimit {where!r}: {text!r} is not a number (use N, Nk, Nm, Ng, Nt or unlimited)"
        )
    amount = int(digits) * scale
    if amount > AMOUNT_MAX:
        raise InvalidArgument(
            f"rlimit {where!r}: {text!r} is above the largest limit {AMOUNT_MAX}; "
            "use unlimited for no limit"
        )
    return amount


def parse_rlimit(text: str) -> Rlimit:
    """An `Rlimit` from `NAME=SOFT[:HARD]`; HARD defaults to SOFT."""
    name, sep, amounts = text.partition("=")
    if not sep or name not in RLIMIT_NAMES:
        raise InvalidArgument(
            f"rlimit {text!r}: expected NAME=SOFT[:HARD] with NAME one of "
            + ", ".join(RLIMIT_NAMES)
        )
    soft_text, _, hard_text = amounts.partition(":")
    soft = parse_amount(soft_text, text)
    hard = parse_amount(hard_text, text) if hard_text else soft
    if hard != UNLIMITED and (soft == UNLIMITED or soft > hard):
        raise InvalidArgument(f"rlimit {text!r}: the soft limit is above the hard limit")
    return Rlimit(resource=name, soft=soft, hard=hard)
