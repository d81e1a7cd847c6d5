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
sys.dont_write_bytecode = True   # the project directory is shared with the guest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import busy_cpu as cpu  # noqa: E402  (the same CPU measure as every contender)
from oslo_concurrency import processutils  # noqa: E402
from os_brick.local_dev import lvm  # noqa: E402


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
