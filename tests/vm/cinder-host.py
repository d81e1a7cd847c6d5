#!/usr/bin/env python3
"""Builds a volume group the way cinder-volume's LVM driver does, with os-brick's LVM class
(os_brick.local_dev.lvm, what the driver calls): LVM() creates the thin pool <vg>-pool when
lvm_type is thin, create_volume() makes thin volumes, create_lv_snapshot() a thin snapshot
(with lvm's activation skip, as cinder leaves it). For tests/vm_lvm/adopt.rs.

    cinder-host.py VG volume=NAME:GIB... snapshot=NAME:SOURCE...
"""
import sys

from oslo_concurrency import processutils
from os_brick.local_dev import lvm

vg = lvm.LVM(sys.argv[1], root_helper="", lvm_type="thin", executor=processutils.execute)
for arg in sys.argv[2:]:
    kind, spec = arg.split("=", 1)
    name, value = spec.split(":", 1)
    if kind == "volume":
        vg.create_volume(name, f"{value}g", lv_type="thin")
    elif kind == "snapshot":
        vg.create_lv_snapshot(name, value, lv_type="thin")
    else:
        sys.exit(f"unknown {kind}")
print("made", len(sys.argv) - 2)
