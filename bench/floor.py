#!/usr/bin/python3
"""Below the shell loop: what one thin lvcreate costs, and which knobs lower it. Guest side of
`bench/run --floor`; wipes the guest's first disk.

Each variant creates --n thin volumes, one lvm command each (the "lvm shell" variants: one `lvm`
process reading all the commands on stdin), from an empty pool on a fresh VG; variants
alternate within each round. The "then activate" variants create the volumes inactive (`-an`)
and activate them afterwards with one `lvchange -ay` per ACTIVATE_CHUNK volumes (lvm's shell
splits a line into at most 64 words). Every variant must end with all volumes active, as
cinder's export needs. Writes JSON lines (variant, round, per_volume_s) to --out.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # the project directory is shared with the guest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import POOL, VG, fresh_vg, log  # noqa: E402

VARIANTS = {
    "lvcreate (the shell loop)": [],
    "+ --addtag (what ember runs)": ["--addtag", "ember-managed"],
    "+ --autobackup n": ["--autobackup", "n"],
    "+ --devices <the VG's PV>": ["--devices", "{disk}"],
    "+ --noudevsync": ["--noudevsync"],
    "+ -an (not activated)": ["-an"],
}
SHELL = "one `lvm` shell process for all"
SHELL_ACTIVATE = "one `lvm` shell: -an, then activate in chunks"
EACH_ACTIVATE = "-an each, then activate in chunks"
ACTIVATE_CHUNK = 50


def activations(names):
    return [["lvchange", "-q", "-ay"] + [f"{VG}/{n}" for n in names[i:i + ACTIVATE_CHUNK]]
            for i in range(0, len(names), ACTIVATE_CHUNK)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--only", default="", help="comma-separated words: run the variants whose names contain one")
    a = p.parse_args()
    disk = os.environ["VM_DISKS"].split()[0]
    out = open(a.out, "a")
    names = list(VARIANTS) + [SHELL, SHELL_ACTIVATE, EACH_ACTIVATE]
    if a.only:
        names = [v for v in names if any(w in v for w in a.only.split(","))]
    for rnd in range(1, a.rounds + 1):
        k = rnd % len(names)
        for v in names[k:] + names[:k]:
            fresh_vg(VG, POOL, disk)
            cmds = [["lvcreate", "-q", "-y", "-T", f"{VG}/{POOL}", "-V", "64m", "-n", f"f{i:03d}"]
                    + [x.replace("{disk}", disk) for x in VARIANTS.get(v, [])] for i in range(a.n)]
            if v in (SHELL_ACTIVATE, EACH_ACTIVATE):
                cmds = [c + ["-an"] for c in cmds] + activations([f"f{i:03d}" for i in range(a.n)])
            t0 = time.monotonic()
            if v in VARIANTS or v == EACH_ACTIVATE:
                runs = [subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                        for c in cmds]
            else:
                script = "".join(" ".join(c) + "\n" for c in cmds)
                runs = [subprocess.run(["lvm"], input=script, text=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
            per = (time.monotonic() - t0) / a.n
            failed = [r for r in runs if r.returncode != 0]
            if failed:   # a knob that breaks lvcreate is a finding, not a crash of the benchmark
                why = [l.strip() for l in failed[0].stderr.splitlines()[-1:]] or ["no message"]
                out.write(json.dumps({"variant": v, "round": rnd, "n": a.n, "failed": len(failed),
                                      "error": why[0]}) + "\n")
                log(f"floor round {rnd}: {v:<34} {len(failed)} of {len(runs)} commands failed: {why[0]}")
                continue
            made = subprocess.run(["lvs", "--noheadings", "-o", "lv_name", VG], capture_output=True,
                                  text=True, check=True).stdout.split()
            if sum(1 for m in made if m.startswith("f")) != a.n:
                sys.exit(f"{v}: {len(made)} volumes made, want {a.n}")
            attrs = subprocess.run(["lvs", "--noheadings", "-o", "lv_name,lv_attr", VG], capture_output=True,
                                   text=True, check=True).stdout.split("\n")
            active = sum(1 for line in attrs if line.split()[:1] and line.split()[0].startswith("f")
                         and line.split()[1][4] == "a")
            if v != "+ -an (not activated)" and active != a.n:
                sys.exit(f"{v}: {active} of {a.n} volumes active")
            out.write(json.dumps({"variant": v, "round": rnd, "n": a.n, "per_volume_s": round(per, 4)}) + "\n")
            out.flush()
            log(f"floor round {rnd}: {v:<34} {per:.3f} s per volume")


if __name__ == "__main__":
    main()
