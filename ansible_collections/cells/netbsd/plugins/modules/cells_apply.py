#!/usr/bin/python
# Copyright (c) Cells for NetBSD developers
# BSD-2-Clause (see LICENSE in the Cells for NetBSD source tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cells_apply
short_description: Apply Cells for NetBSD manifests with cellmgr
version_added: "0.1.0"
description:
  - Makes the cells and volumes of a NetBSD host match a set of C(cellmgr)
    manifests (kinds C(Cell) and C(Volume), see cellmgr(8)).
  - The module runs C(cellmgr plan) on the managed host; the task is changed
    exactly when that plan has actions, and it then applies that very plan
    (C(cellmgr apply --plan)), which cellmgr refuses if the host changed in
    between.
  - In check mode only the plan is made. With C(--diff) the plan's field
    changes are shown, one line per field.
  - cellmgr's environment variables (C(CELLS_BACKEND), C(CELLS_STATE_DIR),
    C(CELLS_DIR), C(CELLS_SOCKET), ...) can be set with the task's
    C(environment) keyword.
options:
  manifests:
    description:
      - Manifest documents, each a mapping with C(kind) and C(name), as
        they would appear in a YAML file under the config dir.
      - They are written to a private temporary directory on the host.
      - Mutually exclusive with O(config_dir).
    type: list
    elements: dict
  config_dir:
    description:
      - A directory on the managed host holding the manifests (C(*.yaml)).
      - Mutually exclusive with O(manifests).
    type: path
  cells:
    description:
      - Only plan and apply these cells (and what they need).
    type: list
    elements: str
    default: []
  cellmgr:
    description:
      - The cellmgr command on the managed host (a name looked up in
        C($PATH) and the pkgsrc directories, or a path).
    type: str
    default: cellmgr
requirements:
  - Cells for NetBSD (cellmgr) on the managed host
notes:
  - Idempotent. A second run right after a successful one reports no change.
  - Services are started by C(cellmgr daemon); without a running daemon the
    cells are created but their services are not started.
attributes:
  check_mode:
    support: full
    description: Check mode makes the plan and changes nothing.
  diff_mode:
    support: full
    description: The plan's field diff (live state before, manifests after).
author:
  - Cells for NetBSD developers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Web cells from manifests kept with the playbook
  cells.netbsd.cells_apply:
    manifests:
      - kind: Volume
        name: data
      - kind: Cell
        name: web
        profile: medium
        ports: [80, 443]
        mounts: ["data:/srv:rw"]

- name: The manifests already on the host
  cells.netbsd.cells_apply:
    config_dir: /etc/cells

- name: What would change (check mode is cellmgr's plan)
  cells.netbsd.cells_apply:
    config_dir: /etc/cells
  check_mode: true
  diff: true
"""

RETURN = r"""
plan:
  description: The plan cellmgr made (C(cellmgr plan --json)).
  returned: always
  type: dict
  contains:
    fingerprint:
      description: Fingerprint of the manifests and live state planned on.
      type: str
    changes:
      description: Whether the plan has actions.
      type: bool
    actions:
      description: Ordered actions, each with C(op), C(name), C(cause) and field C(reasons).
      type: list
      elements: dict
    drift:
      description: Live state that no longer matches what was applied.
      type: list
      elements: dict
results:
  description: One result per applied action (C(action), C(ok), C(detail), C(changed)).
  returned: when the plan was applied
  type: list
  elements: dict
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cells.netbsd.plugins.module_utils.cellmgr import (
    plan_diff,
    run_json,
    tool,
)


def write_manifests(directory, documents):
    for i, doc in enumerate(documents):
        # JSON is YAML: no YAML library is needed on the host.
        path = os.path.join(directory, "%03d.yaml" % i)
        with open(path, "w") as f:
            json.dump(doc, f, sort_keys=False)
            f.write("\n")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            manifests=dict(type="list", elements="dict"),
            config_dir=dict(type="path"),
            cells=dict(type="list", elements="str", default=[]),
            cellmgr=dict(type="str", default="cellmgr"),
        ),
        mutually_exclusive=[("manifests", "config_dir")],
        required_one_of=[("manifests", "config_dir")],
        supports_check_mode=True,
    )
    cellmgr = tool(module, "cellmgr")
    work = tempfile.mkdtemp(prefix="cells-apply-")
    try:
        os.chmod(work, 0o700)
        config_dir = module.params["config_dir"]
        if config_dir is None:
            config_dir = os.path.join(work, "config")
            os.mkdir(config_dir, 0o700)
            write_manifests(config_dir, module.params["manifests"])
        saved = os.path.join(work, "plan.json")
        base = [cellmgr, "--config-dir", config_dir]
        plan = run_json(
            module, base + ["plan", "--json", "--out", saved] + module.params["cells"], "plan"
        )
        result = dict(changed=bool(plan.get("changes")), plan=plan)
        if module._diff:
            result["diff"] = plan_diff(plan)
        if module.check_mode or not result["changed"]:
            module.exit_json(**result)
        report = run_json_report(module, base + ["apply", "--plan", saved, "--json"])
        result["results"] = report.get("actions", [])
        if not report.get("ok", False):
            failed = [r for r in result["results"] if not r.get("ok")]
            detail = failed[0].get("detail", "") if failed else ""
            module.fail_json(msg="apply failed: %s" % detail, **result)
        module.exit_json(**result)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_json_report(module, argv):
    """apply --json: the report even when an action failed (exit status 1)."""
    rc, out, err = module.run_command(argv)
    try:
        return json.loads(out)
    except ValueError:
        lines = [line for line in err.splitlines() if line.strip()]
        module.fail_json(
            msg="apply failed: %s" % (lines[-1] if lines else "exit status %d" % rc),
            rc=rc,
            stdout=out,
            stderr=err,
            cmd=argv,
        )
    return None


if __name__ == "__main__":
    main()
