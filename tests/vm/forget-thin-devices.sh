#!/bin/bash
# Makes thin volumes "half-created", as a power cut during lvcreate can leave them: still in
# the volume group's metadata (tag, size) but unknown to the thin pool's own metadata. It uses
# lvm2's documented way to edit a pool's metadata offline: swap the metadata LV out
# (lvconvert --poolmetadata), thin_dump it, drop the <device> entries, thin_restore, swap back.
#   forget-thin-devices.sh VG POOL LV...        (inside the VM; the VG is left active)
set -euo pipefail
[ -n "${VM_MODE:-}" ] || { echo "run me inside the VM (tests/vm/vm-run)" >&2; exit 2; }
vg=$1 pool=$2; shift 2
ids=()
for lv in "$@"; do ids+=("$(lvs --noheadings -o thin_id "$vg/$lv" | tr -d ' ')"); done
vgchange -q -an "$vg" >/dev/null
lvcreate -q --yes -an -Zn -L 8M -n forget_meta "$vg" >/dev/null
lvconvert -q --yes --thinpool "$vg/$pool" --poolmetadata "$vg/forget_meta" >/dev/null
lvchange -q -ay --yes "$vg/forget_meta"
xml=$(mktemp)
thin_dump "/dev/$vg/forget_meta" > "$xml"
for id in "${ids[@]}"; do
  grep -q "<device dev_id=\"$id\" " "$xml" || { echo "no thin device $id in the pool" >&2; exit 1; }
  sed -i "/<device dev_id=\"$id\" /,/<\/device>/d" "$xml"
done
thin_restore -q -i "$xml" -o "/dev/$vg/forget_meta"
rm -f "$xml"
lvchange -q -an "$vg/forget_meta"
lvconvert -q --yes --thinpool "$vg/$pool" --poolmetadata "$vg/forget_meta" >/dev/null
lvremove -q --yes "$vg/forget_meta" >/dev/null
# activation now fails for exactly those volumes ("Couldn't open thin internal device")
if vgchange -q -ay "$vg" >/dev/null 2>&1; then echo "activation unexpectedly succeeded" >&2; exit 1; fi
exit 0
