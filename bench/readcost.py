#!/usr/bin/python3
"""What ember's one read per pass costs, and what cheaper reads of the same facts would cost.
Guest side of `bench/run --read`; wipes the guest's first disk.

For each --n, one thin pool on a fresh VG gets n thin volumes (active, as ember leaves them).
Then every read variant runs once per round, variants rotating within each round, for --rounds
rounds: wall time and the CPU time of the lvm process. Writes JSON lines (variant, n, round,
wall_s, cpu_s) to --out. The variants:
  - "usage per LV": the fullreport ember ran until 2026-11-30 (data_percent and
    metadata_percent for every LV: a device-mapper status call per thin volume);
  - "pool usage only": the same, but the usage comes from the seg sub-report, selected to the
    thin pools (-S segtype=thin-pool), so lvm asks the kernel for one pool's status;
  - "no usage": the lower bound of a fullreport with LV state but no usage at all; the same
    with the seg sub-report (which fullreport always prints) cut to the pool's one row;
  - "lvs ... the VG's": one lvs with the same LV fields and the VG's fields on every row (it
    prints no row at all for a VG without LVs, so it would need a second read there);
  - "names only": `lvs -o lv_name`, what the shell loop reads (it cannot tell an inactive or
    foreign volume from its own, so it is a floor, not an alternative);
  - "lvs of the pool alone": the daemon's pool check (the VG's fields and the pool's usage, one
    device-mapper status call), which runs every pool_check_interval between passes;
  - with --ember: "ember apply, nothing to do": the whole pass (process start, cinder.conf,
    desired state, the read, the plan), its desired state declaring exactly these volumes.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # the project directory is shared with the guest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import POOL, VG, WORK, backend_yaml, fresh_vg, log, write_conf  # noqa: E402

VG_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size"
LV_BASE = "lv_name,lv_attr,lv_layout,lv_size,pool_lv,lv_tags"


def fullreport(lv_fields, seg=("-o", "segtype")):
    return (["lvm", "fullreport", "--reportformat", "json", "--units", "b", "--nosuffix",
             "--configreport", "vg", "-o", VG_FIELDS, "--configreport", "lv", "-o", lv_fields,
             "--configreport", "pv", "-o", "pv_name", "--configreport", "pvseg", "-o", "pvseg_start",
             "--configreport", "seg"] + list(seg) + ["--", VG])


VARIANTS = {
    "fullreport, usage per LV": fullreport(LV_BASE + ",data_percent,metadata_percent"),
    "fullreport, pool usage only": fullreport(
        LV_BASE, seg=("-o", "lv_name,data_percent,metadata_percent", "-S", "segtype=thin-pool")),
    "fullreport, no usage": fullreport(LV_BASE),
    "fullreport, no usage, seg report cut to the pool": fullreport(
        LV_BASE, seg=("-o", "segtype", "-S", "segtype=thin-pool")),
    "lvs, the same LV fields and the VG's": [
        "lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o",
        LV_BASE + ",data_percent,metadata_percent," + VG_FIELDS, VG],
    "lvs names only (the shell loop's read)": ["lvs", "--noheadings", "-o", "lv_name", VG],
    # what the daemon's pool check reads every pool_check_interval (src/lvm/cli.rs observe_pool)
    "lvs of the pool alone (the pool check)": [
        "lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o",
        VG_FIELDS + ",vg_mda_free,vg_mda_size," + LV_BASE
        + ",data_percent,metadata_percent,lv_metadata_size,chunk_size", f"{VG}/{POOL}"],
}


EMBER = "ember apply, nothing to do"


def make_volumes(n):
    """n active thin volumes, created inactive through one lvm shell and activated in chunks."""
    names = [f"r{i:04d}" for i in range(n)]
    # ember's two tags (the backend is named after the VG in read.conf), so that the pass
    # with nothing to do has nothing to do
    lines = [f"lvcreate -q -y -an -T {VG}/{POOL} -V 64m -n {x} --addtag ember-managed --addtag ember-backend={VG}" for x in names]
    lines += ["lvchange -q -ay " + " ".join(f"{VG}/{x}" for x in names[i:i + 50])
              for i in range(0, n, 50)]
    r = subprocess.run(["lvm"], input="\n".join(lines) + "\n", text=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:   # (stderr also holds one over-provisioning warning per volume)
        sys.exit(f"making {n} volumes: exit {r.returncode}: {r.stderr.strip()[-2000:]}")


def timed(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout


def check_same_facts(outputs, n):
    """The cheaper fullreports must report the same pool usage and the same LVs."""
    per_lv = json.loads(outputs["fullreport, usage per LV"])["report"][0]
    pool_only = json.loads(outputs["fullreport, pool usage only"])["report"][0]
    pool = next(lv for lv in per_lv["lv"] if lv["lv_name"] == POOL)
    seg = pool_only["seg"]
    if [s["lv_name"] for s in seg] != [POOL]:
        sys.exit(f"seg report selected {seg}, want only the pool")
    if (seg[0]["data_percent"], seg[0]["metadata_percent"]) != (pool["data_percent"], pool["metadata_percent"]):
        sys.exit(f"pool usage differs: {seg[0]} vs {pool}")
    if len(pool_only["lv"]) != len(per_lv["lv"]) or len(per_lv["lv"]) < n:
        sys.exit("the variants list different LVs")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--n", default="100,1000", help="comma-separated volume counts")
    p.add_argument("--ember", help="also time `ember apply` with nothing to do (copied to the guest's tmpfs)")
    a = p.parse_args()
    if a.ember:
        (WORK / "run").mkdir(parents=True, exist_ok=True)
        shutil.copy(a.ember, WORK / "ember")   # not from the uncached 9p share (see guest.py)
        write_conf(WORK / "read.conf", [VG], WORK / "read.yaml")
        VARIANTS[EMBER] = [str(WORK / "ember"), "--config-file", str(WORK / "read.conf"),
                           "apply", "--backend", VG]
    disk = os.environ["VM_DISKS"].split()[0]
    out = open(a.out, "a")
    names = list(VARIANTS)
    for n in [int(x) for x in a.n.split(",") if x]:
        fresh_vg(VG, POOL, disk)
        t0 = time.monotonic()
        make_volumes(n)
        if a.ember:
            vols = [(f"r{i:04d}", 64) for i in range(n)]
            (WORK / "read.yaml").write_text("\n".join(["backends:"] + backend_yaml(VG, "4G", vols)) + "\n")
        log(f"read cost: {n} volumes made in {time.monotonic() - t0:.0f} s")
        outputs = {v: timed(VARIANTS[v])[2] for v in names}   # warm-up, and the facts agree
        check_same_facts(outputs, n)
        if a.ember and "No changes" not in outputs[EMBER]:
            sys.exit(f"ember apply had something to do:\n{outputs[EMBER][-2000:]}")
        walls = {v: [] for v in names}
        for rnd in range(1, a.rounds + 1):
            k = rnd % len(names)
            for v in names[k:] + names[:k]:
                wall, cpu, _ = timed(VARIANTS[v])
                walls[v].append(wall)
                out.write(json.dumps({"variant": v, "n": n, "round": rnd, "wall_s": round(wall, 4),
                                      "cpu_s": round(cpu, 4)}) + "\n")
            out.flush()
        for v in names:
            w = sorted(walls[v])
            log(f"read cost n={n}: {v:<40} median {statistics.median(w) * 1000:.0f} ms "
                f"(p10 {w[len(w) // 10] * 1000:.0f}, p90 {w[len(w) * 9 // 10] * 1000:.0f})")


if __name__ == "__main__":
    main()
