#!/bin/bash
# The guest side of tests/vm/powercut. converge DIR N: (first boot) make the VG, then converge
# N volumes until the host pulls the plug. verify DIR N: converge after the last cut and check.
set -euo pipefail
[ -n "${VM_MODE:-}" ] || { echo "run me through tests/vm/powercut" >&2; exit 2; }
phase=$1 dir=$2 n=$3
disk=${VM_DISKS##* }
ember=$(dirname "$0")/../../target/debug/ember
conf=$dir/cinder.conf
if ! vgs vg-pc >/dev/null 2>&1; then
  pvcreate -q "$disk"; vgcreate -q vg-pc "$disk"
  lvcreate -q --yes -L 8M -n foreign vg-pc
  # ember's record of creations under way lives where a real host's /var/lib does: on a disk
  # the power cut does not lose (the guest's own root is a tmpfs)
  printf '[DEFAULT]\nenabled_backends = pc\n[pc]\nvolume_group = vg-pc\nlvm_conf_file = None\n[ember]\nmax_deletions_per_pass = 0\nstate_dir = %s\n' "$dir/state" > "$conf"
fi
# after a cut, activation can fail: LVM's metadata may name a thin volume whose creation the
# pool's own metadata never committed ("Couldn't open thin internal device"). ember's next pass
# must find it and recreate it (the verify phase checks that every volume ends up active).
if ! vgchange -q -ay vg-pc >/dev/null 2>"$dir/activation.err"; then
  echo "FINDING: activation failed after a power cut (ember's pass must mend it):"; cat "$dir/activation.err"
  lvs -a -o lv_name,lv_attr,lv_size,lv_tags vg-pc || true
fi
{ echo "backends:"; echo "  pc:"; echo "    thin_pool: { size: 50% }"; echo "    volumes:"
  for i in $(seq 1 "$n"); do echo "      v$i: { size: 32M }"; done; } > "$dir/desired-state.yaml"
if [ "$phase" = converge ]; then
  export NO_COLOR=1
  exec "$ember" --config-file "$conf" --log-level info apply   # the host kills the guest during this
fi
check() { if eval "$1"; then echo "ok: $1"; else echo "FAILED: $1"; lvs -a -o lv_name,lv_attr,lv_size,lv_tags vg-pc; exit 1; fi; }
"$ember" --config-file "$conf" apply 2>&1 | tee "$dir/verify-apply.log"
if grep -q "recreate volume" "$dir/verify-apply.log"; then echo "powercut: ember recreated a half-created volume"; fi
names=$(lvs --noheadings -o lv_name vg-pc | tr -d ' ' | sort | tr '\n' ' ')
want=$( (for i in $(seq 1 "$n"); do echo "v$i"; done; echo foreign; echo vg-pc-pool) | sort | tr '\n' ' ')
check "[ \"$names\" = \"$want\" ]"
check "[ \$(lvs --noheadings -o lv_name,lv_tags vg-pc | grep -E '^ *v[0-9]+ ' | grep 'ember-managed' | grep -c 'ember-backend=pc') = $n ]"
check "[ \$(lvs --noheadings --units b --nosuffix -o lv_name,lv_size vg-pc | grep -cE '^ *v[0-9]+ +33554432\$') = $n ]"
check "[ \"\$(lvs --noheadings -o lv_tags vg-pc/foreign | tr -d ' ')\" = '' ]"
# no half-created volume left: every one of ember's volumes can be (and is) active
check "[ -z \"\$(lvs --noheadings -o lv_attr -S 'lv_name=~^v[0-9]+$' vg-pc | awk 'substr(\$1,5,1) != \"a\"')\" ]"
# an interrupted lvcreate would leave a bare lvolN behind (lvol0_pmspare is the pool's normal spare)
check "[ -z \"\$(lvs --noheadings -a -o lv_name -S 'lv_name=~^\\[?lvol[0-9]+\\]?$' vg-pc)\" ]"
check "$ember --config-file $conf plan | grep -q 'No changes.'"
echo "powercut: converged to exactly $n volumes after the cuts"
