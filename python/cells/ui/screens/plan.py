"""The plan shown before `apply`: every action with its reasons, then a
yes/no.  Dismisses with True only when there is something to apply and
the person said yes.  Callers: cells.ui.app.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cells.ui.model import Plan

_STYLE = {"create": "green", "start": "green", "record": "cyan", "update": "yellow",
          "restart": "yellow", "root": "yellow", "mounts": "yellow", "provision": "yellow",
          "replace": "bold magenta", "stop": "red", "destroy": "bold red",
          "forget": "red"}  # fmt: skip


def plan_text(plan: Plan) -> Text:
    text = Text()
    if plan.empty:
        text.append("No changes: the cells match their manifests.\n")
    for action in plan.actions:
        verb = action.op.rsplit(".", 1)[-1]
        text.append(f"{action.op:>16} ", style=_STYLE.get(verb, "bold"))
        text.append(action.name, style="bold")
        if action.cause:
            text.append(f"  ({action.cause})", style="dim")
        text.append("\n")
        for reason in action.reasons:
            text.append(f"{'':>17}{reason}\n", style="dim")
        if action.restarts:
            text.append(f"{'':>17}restarts: {', '.join(action.restarts)}\n", style="yellow")
    if plan.drift:
        text.append("\ndrift (live state differs from the last apply):\n", style="bold")
        for item in plan.drift:
            text.append(f"  {item}\n")
    for note in plan.notes:
        text.append(f"\nnote: {note}", style="italic")
    return text


class PlanScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Apply"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    DEFAULT_CSS = """
    PlanScreen {
        align: center middle;
    }
    PlanScreen > Vertical {
        width: 100;
        height: auto;
        max-height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    PlanScreen VerticalScroll {
        height: auto;
        max-height: 24;
    }
    PlanScreen #prompt {
        margin-top: 1;
        text-style: bold;
    }
    """

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Plan", style="bold"))
            with VerticalScroll():
                yield Static(plan_text(self.plan), id="plan")
            n = len(self.plan.actions)
            prompt = (
                "Nothing to apply.  n/escape: close"
                if self.plan.empty
                else f"Apply {n} change{'s' if n != 1 else ''}?  y: apply  n/escape: cancel"
            )
            yield Static(prompt, id="prompt")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes and not self.plan.empty)
