#!/usr/bin/env python3
"""os-brick's LVM layer (os_brick.local_dev.lvm, what cinder's LVM driver calls) driven the way
cinder-volume drives it: one LVM object per backend, then one call per volume.

    osbrick_driver.py create|ensure|extend|delete LIST     (LIST: "name size_mib" lines)

ensure: list the volumes once (get_volumes, one lvs) and create the missing ones.
Prints one JSON line: the loop's monotonic start/end, busy CPU seconds of the guest and the
set-up time (imports and LVM(), which a long-running cinder-volume pays once).
"""
import json
import os
import sys
import time

t_start = time.monotonic()
from oslo_concurrency import processutils  # noqa: E402
from os_brick.local_dev import lvm  # noqa: E402


def cpu():
    """Busy CPU seconds of the whole guest (as bench/guest.py counts them)."""
    f = open("/proc/stat").readline().split()
    return sum(int(f[i]) for i in (1, 2, 3, 6, 7)) / os.sysconf("SC_CLK_TCK")


op, path = sys.argv[1], sys.argv[2]
volumes = [(n, int(s)) for n, s in (line.split() for line in open(path) if line.strip())]
# cinder's driver passes its own executor (processutils.execute, through sudo + cinder-rootwrap
# unless it runs as root); as root it runs the command directly: the cheapest case for os-brick
vg = lvm.LVM("bench", root_helper="", lvm_type="thin", executor=processutils.execute)
c0, t0 = cpu(), time.monotonic()
if op == "create":
    for name, size in volumes:
        vg.create_volume(name, f"{size}m", lv_type="thin")
elif op == "ensure":
    have = {v["name"] for v in vg.get_volumes()}
    for name, size in volumes:
        if name not in have:
            vg.create_volume(name, f"{size}m", lv_type="thin")
elif op == "extend":
    for name, size in volumes:
        vg.extend_volume(name, f"{size}m")
elif op == "delete":
    for name, _size in volumes:
        vg.delete(name)
else:
    sys.exit(f"unknown operation {op}")
t1 = time.monotonic()
print(json.dumps({"t0": t0, "t1": t1, "cpu": cpu() - c0, "setup_s": t0 - t_start}))
