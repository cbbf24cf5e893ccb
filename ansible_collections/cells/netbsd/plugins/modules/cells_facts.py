#!/usr/bin/python
# Copyright (c) Cells for NetBSD developers
# BSD-2-Clause (see LICENSE in the Cells for NetBSD source tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cells_facts
short_description: Gather facts about the cells of a NetBSD host
version_added: "0.1.0"
description:
  - Reads C(cellmgr status --json) on the managed host and sets the fact
    C(cells), a mapping from cell name to its status (state, profile,
    ports, processes, health, service, ...), and C(cells_names).
  - Changes nothing.
options:
  cellmgr:
    description:
      - The cellmgr command on the managed host (a name looked up in
        C($PATH) and the pkgsrc directories, or a path).
    type: str
    default: cellmgr
requirements:
  - Cells for NetBSD (cellmgr) on the managed host
attributes:
  check_mode:
    support: full
    description: Read-only; runs in check mode too.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  facts:
    support: full
    description: Sets C(cells) and C(cells_names).
author:
  - Cells for NetBSD developers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Gather cell facts
  cells.netbsd.cells_facts:

- name: Every cell is running
  ansible.builtin.assert:
    that: ansible_facts.cells[item].state == 'running'
  loop: "{{ ansible_facts.cells_names }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts about the host's cells.
  returned: always
  type: dict
  contains:
    cells:
      description: Cell name to its row of C(cellmgr status --json).
      type: dict
    cells_names:
      description: The cell names, in cellmgr's order.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cells.netbsd.plugins.module_utils.cellmgr import run_json, tool


def main():
    module = AnsibleModule(
        argument_spec=dict(cellmgr=dict(type="str", default="cellmgr")),
        supports_check_mode=True,
    )
    status = run_json(module, [tool(module, "cellmgr"), "status", "--json"], "status")
    rows = status.get("cells", [])
    module.exit_json(
        changed=False,
        ansible_facts=dict(
            cells=dict((row["name"], row) for row in rows),
            cells_names=[row["name"] for row in rows],
        ),
    )


if __name__ == "__main__":
    main()
