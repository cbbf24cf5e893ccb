# Copyright (c) Cells for NetBSD developers
# BSD-2-Clause (see LICENSE in the Cells for NetBSD source tree)
"""What the cells.netbsd modules share: finding and running cellmgr."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

#: Where pkgsrc and a source install put the tools, after $PATH.
TOOL_DIRS = ["/usr/pkg/bin", "/usr/pkg/sbin", "/usr/local/bin", "/usr/local/sbin"]


def tool(module, name):
    """The path of cellmgr/cellctl: the module's option if given, else $PATH."""
    given = module.params.get(name)
    if given and "/" in given:
        return given
    return module.get_bin_path(given or name, required=True, opt_dirs=TOOL_DIRS)


def run_json(module, argv, what):
    """Run argv; its stdout as JSON, or fail the task with cellmgr's own line."""
    rc, out, err = module.run_command(argv)
    if rc != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        module.fail_json(
            msg="%s failed: %s" % (what, lines[-1] if lines else "exit status %d" % rc),
            rc=rc,
            stdout=out,
            stderr=err,
            cmd=argv,
        )
    try:
        return json.loads(out)
    except ValueError as e:
        module.fail_json(msg="%s: not JSON (%s)" % (what, e), stdout=out, stderr=err, cmd=argv)
    return None


def plan_diff(plan):
    """Ansible's before/after for a cellmgr plan: one line per changed field."""
    before, after = [], []
    seen = set()
    for action in plan.get("actions", []):
        op, name, cause = action["op"], action["name"], action.get("cause", "edit")
        if cause == "new" and not action.get("reasons"):
            after.append("%s %s (new)" % (op, name))
            continue
        if cause == "removed" and not action.get("reasons"):
            before.append("%s %s (removed)" % (op, name))
            continue
        for r in action.get("reasons", []):
            # Several actions of a cell may give the same reason: once is enough.
            field = "%s.%s" % (name, r["field"])
            if field in seen:
                continue
            seen.add(field)
            before.append("%s: %s" % (field, json.dumps(r.get("old"), sort_keys=True)))
            after.append("%s: %s" % (field, json.dumps(r.get("new"), sort_keys=True)))
        if not action.get("reasons") and not op.endswith(".record"):
            before.append("%s %s" % (op, name))
            after.append("%s %s (%s)" % (op, name, cause))
    return {
        "before": "".join(line + "\n" for line in before),
        "after": "".join(line + "\n" for line in after),
        "before_header": "live state",
        "after_header": "manifests",
    }
