#!/usr/bin/env python3
"""Attaches or detaches a volume with os-brick as nova-compute does, from the connection
dictionary `ember connection` printed (cinder's initialize_connection output): nova's libvirt
volume drivers build the connector from driver_volume_type ('iscsi' -> ISCSI, 'nvmeof' ->
NVME) and pass connection_info['data'] unchanged to connect_volume / disconnect_volume.
For tests/vm_exports/osbrick.rs (os-brick 7.1.1 from tests/vm/setup-osbrick).

    osbrick-connect.py connect CONNECTION.json            prints os-brick's device_info (JSON)
    osbrick-connect.py disconnect CONNECTION.json DEVICE_INFO.json
"""
import json
import logging
import sys

from os_brick import initiator
from os_brick import privileged
from os_brick.initiator import connector

# what os-brick does, on standard error as it happens (a test that times out still shows it)
logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
# already root: the privileged functions run in this process (nova starts a privsep daemon
# for them; what they do is the same)
privileged.default.set_client_mode(False)

PROTOCOL = {"iscsi": initiator.ISCSI, "nvmeof": initiator.NVME}

mode, conn_file = sys.argv[1], sys.argv[2]
with open(conn_file) as f:
    connection_info = json.load(f)
conn = connector.InitiatorConnector.factory(
    PROTOCOL[connection_info["driver_volume_type"]],
    "sudo",  # nova's root helper; privsep starts its helper through it
    use_multipath=False,
    device_scan_attempts=5,
)
if mode == "connect":
    device_info = conn.connect_volume(connection_info["data"])
    print(json.dumps(device_info))
elif mode == "disconnect":
    with open(sys.argv[3]) as f:
        device_info = json.load(f)
    conn.disconnect_volume(connection_info["data"], device_info, force=False, ignore_errors=False)
    print("disconnected")
else:
    sys.exit(f"unknown mode {mode}")
