"""The connection banner shown at the top of every full screen.

It is hidden while the link is connected, red while the daemon is
unreachable, and green for a few seconds after a reconnect.  The app owns
the state (`BannerState`) and pushes it to every banner on the screen
stack.  Callers: cells.ui.app, cells.ui.screens.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets import Static


@dataclass(frozen=True)
class BannerState:
    kind: str = "hidden"  # hidden | down | reconnected
    text: str = ""


def unreachable(path: str, reason: str = "") -> BannerState:
    why = f" ({reason})" if reason else ""
    return BannerState("down", f"cellmgr daemon unreachable at {path}; retrying…{why}")


def reconnected(path: str) -> BannerState:
    return BannerState("reconnected", f"reconnected to cellmgr daemon at {path}")


class ConnectionBanner(Static):
    """One line saying whether cellui can reach the daemon."""

    DEFAULT_CSS = """
    ConnectionBanner {
        width: 1fr;
        height: auto;
        max-height: 3;
        padding: 0 1;
        display: none;
        text-style: bold;
    }
    ConnectionBanner.-down {
        display: block;
        background: $error;
        color: $text;
    }
    ConnectionBanner.-reconnected {
        display: block;
        background: $success;
        color: $text;
    }
    """

    def __init__(self, state: BannerState | None = None, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.state = BannerState()
        if state is not None:
            self.show_state(state)

    def show_state(self, state: BannerState) -> None:
        self.state = state
        self.set_class(state.kind == "down", "-down")
        self.set_class(state.kind == "reconnected", "-reconnected")
        self.update(state.text)
