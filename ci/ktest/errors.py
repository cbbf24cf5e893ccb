"""The one error type of the boot-test tier: a one-line (or short) message."""


class KtestError(Exception):
    """A failure to build, boot or read back; str() is the message."""
