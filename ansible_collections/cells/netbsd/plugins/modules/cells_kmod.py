#!/usr/bin/python
# Copyright (c) Cells for NetBSD developers
# BSD-2-Clause (see LICENSE in the Cells for NetBSD source tree)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cells_kmod
short_description: Load the secmodel_cell kernel module on NetBSD
version_added: "0.1.0"
description:
  - Loads (C(modload)) or unloads (C(modunload)) the C(secmodel_cell)
    kernel module, and optionally keeps it loaded across reboots with a
    line in C(/etc/modules.conf) (modules.conf(5)).
  - The module is loaded when the sysctl node
    C(security.models.cell.abi_version) exists.
options:
  state:
    description:
      - V(present) loads the module, V(absent) unloads it (the kernel
        refuses while cells exist).
    type: str
    choices: [present, absent]
    default: present
  persist:
    description:
      - Also add (V(present)) or remove (V(absent)) the module's line in
        O(modules_conf), so it is loaded at boot.
    type: bool
    default: false
  modules_conf:
    description:
      - The modules.conf(5) file to edit when O(persist) is set.
    type: path
    default: /etc/modules.conf
requirements:
  - NetBSD with a module-capable kernel (options MODULAR) and secmodel_cell.kmod installed
attributes:
  check_mode:
    support: full
    description: Reports what would change.
  diff_mode:
    support: none
    description: No diff.
author:
  - Cells for NetBSD developers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Load secmodel_cell now and at every boot
  cells.netbsd.cells_kmod:
    persist: true
"""

RETURN = r"""
loaded:
  description: Whether the module is loaded after the task.
  returned: always
  type: bool
persisted:
  description: Whether O(modules_conf) names the module after the task.
  returned: when O(persist) is set
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

MODULE = "secmodel_cell"
SYSCTL_NODE = "security.models.cell.abi_version"


def loaded(module):
    sysctl = module.get_bin_path("sysctl", required=True)
    rc = module.run_command([sysctl, "-n", SYSCTL_NODE])[0]
    return rc == 0


def conf_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def names_module(line):
    words = line.split("#", 1)[0].split()
    return bool(words) and words[0] == MODULE


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            persist=dict(type="bool", default=False),
            modules_conf=dict(type="path", default="/etc/modules.conf"),
        ),
        supports_check_mode=True,
    )
    want = module.params["state"] == "present"
    result = dict(changed=False)
    is_loaded = loaded(module)
    if is_loaded != want:
        result["changed"] = True
        if not module.check_mode:
            tool = module.get_bin_path("modload" if want else "modunload", required=True)
            rc, out, err = module.run_command([tool, MODULE])
            if rc != 0:
                module.fail_json(
                    msg="%s %s: %s" % (os.path.basename(tool), MODULE, (err or out).strip()),
                    rc=rc,
                )
            is_loaded = loaded(module)
            if is_loaded != want:
                module.fail_json(msg="%s did not take effect" % os.path.basename(tool))
        else:
            is_loaded = want
    result["loaded"] = is_loaded
    if module.params["persist"]:
        path = module.params["modules_conf"]
        lines = conf_lines(path)
        present = any(names_module(line) for line in lines)
        if present != want:
            result["changed"] = True
            if not module.check_mode:
                kept = [line for line in lines if not names_module(line)]
                if want:
                    kept.append(MODULE)
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    f.write("".join(line + "\n" for line in kept))
                module.atomic_move(tmp, path)
        result["persisted"] = want
    module.exit_json(**result)


if __name__ == "__main__":
    main()
