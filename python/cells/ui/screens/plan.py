"""The plan shown before `apply`: every action with its reasons, then a
yes/no.  Dismisses with True only when there is something to apply and
the person said yes.  Callers: cells.ui.app.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
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


def plan_table(plan: Plan) -> Table:
    """One row per action (op, target, cause), its reasons and restarts below."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", no_wrap=True)
    table.add_column()
    if plan.empty:
        table.add_row("", "No changes: the cells match their manifests.")
    for action in plan.actions:
        verb = action.op.rsplit(".", 1)[-1]
        target = Text(action.name, style="bold")
        if action.cause:
            target.append(f"  ({action.cause})", style="dim")
        table.add_row(Text(action.op, style=_STYLE.get(verb, "bold")), target)
        for reason in action.reasons:
            table.add_row("", Text(reason, style="dim"))
        if action.restarts:
            table.add_row("", Text(f"restarts {', '.join(action.restarts)}", style="yellow"))
    if plan.drift:
        table.add_row("", "")
        table.add_row(Text("drift", style="bold"), "live state differs from the last apply:")
        for item in plan.drift:
            table.add_row("", item)
    for note in plan.notes:
        table.add_row(Text("note", style="italic"), note)
    return table


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
                yield Static(plan_table(self.plan), id="plan")
            n = len(self.plan.actions)
            prompt = (
                "Nothing to apply.  n/escape: close"
                if self.plan.empty
                else f"Apply {n} change{'s' if n != 1 else ''}?  y: apply  n/escape: cancel"
            )
            yield Static(prompt, id="prompt")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes and not self.plan.empty)
