#!/bin/bash
# Captures real `lvm fullreport` JSON (the exact arguments ember's LvmCli::observe uses) into
# tests/fixtures/lvm/, for the report parser's unit tests. Run it through the harness:
#   tests/vm/vm-run --disk 2G --share "$PWD/tests/fixtures/lvm" -- tests/vm/capture-lvm-fixtures.sh
# (with the argument `cow`: only cow.json, COW snapshots and their origins)
set -euo pipefail
[ -n "${VM_MODE:-}" ] || { echo "run me inside tests/vm/vm-run" >&2; exit 2; }
out=$(cd "$(dirname "$0")/../fixtures/lvm" && pwd)
disk=${VM_DISKS%% *}
report() {
  lvm fullreport --reportformat json --units b --nosuffix \
    --configreport vg -o vg_name,vg_size,vg_free,vg_extent_size \
    --configreport lv -o lv_name,lv_uuid,lv_attr,lv_layout,lv_size,pool_lv,lv_tags,data_percent,metadata_percent \
    --configreport pv -o pv_name --configreport pvseg -o pvseg_start --configreport seg -o segtype -- "$1"
}
pvcreate -q "$disk"
if [ "${1:-}" = cow ]; then
  # volumes with COW snapshots (another tool's `lvcreate -s -L`) and thin snapshots, reported
  # with the LV fields ember asks for (src/lvm/report.rs LV_FIELDS): cow.json only
  #   tests/vm/vm-run --disk 2G --share "$PWD/tests/fixtures/lvm" -- tests/vm/capture-lvm-fixtures.sh cow
  # (the lv_uuid values in the committed cow.json were added by hand, in lvm's format, when
  # every LV read came to need one: the rest is this capture's; a new capture replaces them)
  vgcreate -q vgcow "$disk"
  lvcreate -q --yes -L 64M -n thick -- vgcow
  lvcreate -q --yes -s -L 16M -n thicksnap -- vgcow/thick
  lvcreate -q --yes --type thin-pool -L 256M -n vgcow-pool -- vgcow
  lvcreate -q --yes -V 64M --thinpool vgcow-pool -n thinv -- vgcow
  lvcreate -q --yes -s -n thinsnap -- vgcow/thinv
  lvcreate -q --yes -V 64M --thinpool vgcow-pool -n thinc -- vgcow
  lvcreate -q --yes -s -L 16M -n thincow -- vgcow/thinc
  lvcreate -q --yes -V 64M --thinpool vgcow-pool -n both -- vgcow
  lvcreate -q --yes -s -n boththin -- vgcow/both
  lvcreate -q --yes -s -L 16M -n bothcow -- vgcow/both
  lvcreate -q --yes -s -L 8M -n thinsnapcow -- vgcow/thinsnap
  lvm fullreport --reportformat json --units b --nosuffix \
    --configreport vg -o vg_name,vg_size,vg_free,vg_extent_size,vg_mda_free,vg_mda_size \
    --configreport lv -o lv_name,lv_uuid,lv_attr,lv_layout,lv_size,pool_lv,origin,lv_tags,data_percent,metadata_percent,lv_metadata_size \
    --configreport pv -o pv_name --configreport pvseg -o pvseg_start --configreport seg -o lv_name,chunk_size -- vgcow > "$out/cow.json"
  echo "captured $out/cow.json"
  exit 0
fi
vgcreate -q vgfix "$disk"
report vgfix > "$out/empty-vg.json"
lvcreate -q --yes --type thin-pool -L 512M --addtag ember-managed -n vgfix-pool -- vgfix
lvcreate -q --yes --type thin -V 1G --thinpool vgfix-pool --addtag ember-managed -n volume-0001 -- vgfix
lvcreate -q --yes --type thin -V 100M --thinpool vgfix-pool --addtag ember-managed --addtag other:tag -n volume-0002 -- vgfix
lvcreate -q --yes --type thin -V 64M --thinpool vgfix-pool -n foreign-thin -- vgfix
lvcreate -q --yes --type linear -L 12M --addtag ember-managed -n thick-1 -- vgfix
lvcreate -q --yes --type linear -L 8M -n legacy -- vgfix
lvcreate -q --yes -s -L 8M -n legacy-snap -- vgfix/legacy
dd if=/dev/urandom of=/dev/vgfix/volume-0002 bs=1M count=20 oflag=direct status=none
report vgfix > "$out/mixed.json"
# a full pool: --errorwhenfull so the writer fails at once instead of queueing for 60 s
lvcreate -q --yes --type thin-pool -L 32M -n fullpool -- vgfix
lvchange -q --errorwhenfull y vgfix/fullpool
lvcreate -q --yes --type thin -V 64M --thinpool fullpool -n filler -- vgfix
dd if=/dev/zero of=/dev/vgfix/filler bs=1M count=64 oflag=direct status=none 2>/dev/null || true
report vgfix > "$out/full-pool.json"
# inactive volumes (lv_attr state "-"): what ember activates, as cinder-volume does at start
lvchange -q -an vgfix/volume-0002 vgfix/thick-1
report vgfix > "$out/some-inactive.json"
set +e
report nosuchvg > "$out/vg-not-found.stdout" 2> "$out/vg-not-found.stderr"
echo $? > "$out/vg-not-found.exit"
lvm version | head -1 > "$out/LVM_VERSION"
echo "captured into $out:"; ls -l "$out"
