#!/usr/bin/python3
"""The scale series: at N existing volumes (N growing: --ns, default 10,100,500,1000), what a
pass with nothing to do costs, and what an edit adding one volume costs, for ember apply, the
ember daemon, the shell loop and os-brick; and one bare `lvcreate -T` of one volume, the floor
of "one edit, one new volume". Guest side of `bench/run --scale`; wipes the guest's disks.

The volumes that exist are ember's (its tags), made outside any measurement through one lvm
shell (created inactive, then activated in chunks: the floor run's fastest way). Per N:
  - with the daemon running (two backends, as on a host; `resync_interval = 5`, the pool check
    out of the way): its pass with nothing to do asked by `ember reconcile` (request to its
    journal line), the same pass as the timer starts it (the pass's own duration_ms), and an
    edit adding one volume (rename into place to converged);
  - with the daemon stopped (one writer per VG), contenders alternating within each round:
    the shell loop's idle pass (`lvs -o lv_name` and a loop), os-brick's, `ember apply`'s (with
    the last read kept in run_dir/memory by an untimed apply at the start of each round, and
    with nothing kept: a host's first apply);
    and one new volume by `lvcreate -T`, by ember apply, by os-brick.
Each +1 volume is removed again outside the measurement (with the daemon running, its next
timer's pass reads that before the next edit: the host is at rest when the operator edits). Rows: scenario "steady" / "edit+1".
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True   # the project directory is shared with the guest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import (COLD, POOL, POOL2, VG, VG2, WORK, Bench, BenchError, Daemon, expect,  # noqa: E402
                   fresh_vg, log, memory_kib, sh, volume_set, write_conf, write_desired)

ACTIVATE_CHUNK = 50


def grow_to(n, have):
    """Makes volume_set(n) exist, ember's, active: the ones missing, through one lvm shell."""
    want = volume_set(n)[have:]
    if not want:
        return
    lines = [f"lvcreate -q -y -T -V {s}m -an --addtag ember-managed --addtag ember-backend={VG} "
             f"-n {name} {VG}/{POOL}" for name, s in want]
    names = [name for name, _ in want]
    lines += ["lvchange -q -ay " + " ".join(f"{VG}/{x}" for x in names[i:i + ACTIVATE_CHUNK])
              for i in range(0, len(names), ACTIVATE_CHUNK)]
    t = time.monotonic()
    p = subprocess.run(["lvm"], input="\n".join(lines) + "\nexit\n", text=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise BenchError(f"lvm shell: {p.stderr[-2000:]}")
    log(f"grew to {n} volumes in {time.monotonic() - t:.0f} s")


class Scale(Bench):
    RESYNC = 5

    def __init__(self, a):
        super().__init__(a)
        write_conf(WORK / "scale.conf", [VG, VG2], WORK / "desired.yaml",
                   f"resync_interval = {self.RESYNC}\npool_check_interval = 3600\n")

    def next_resync(self, d):
        """Waits for the next pass the timer starts; returns its journal line."""
        deadline = time.monotonic() + 3 * self.RESYNC + 60
        while time.monotonic() < deadline:
            text = d.log_path.read_text(errors="replace")
            new, d.offset = text[d.offset:], len(text)
            for line in new.splitlines():
                if "pass (resync)" in line and f"backend={VG2}" not in line and f'backend="{VG2}"' not in line:
                    return line
            time.sleep(0.05)
        raise BenchError("no resync pass")

    def resync_pass(self, d, n, rnd):
        """The next pass the timer starts: its own duration and the lvm processes in it."""
        d.settle()
        line = self.next_resync(d)
        m = re.search(r"duration_ms=(\d+)", line)
        ms = int(m.group(1)) if m else 0
        t1 = time.monotonic()
        return self.record("steady", n, "ember daemon, timer's pass", rnd, t1 - ms / 1000, t1, 0.0)

    def daemon_phase(self, n, vols, rounds):
        write_desired(vols, second=self.second)
        d = Daemon(self.ember, WORK / "scale.conf")
        try:
            for rnd in range(1, rounds + 1):
                self.steady(n, "ember daemon", rnd, daemon=d)
                self.resync_pass(d, n, rnd)
            for rnd in range(1, rounds + 1):
                new = vols + [(f"new{rnd:03d}", 64)]
                mark = len(d.log_path.read_text(errors="replace"))
                t0, t1, cpu, extra = d.measure(lambda: write_desired(new, second=self.second), 1)
                # converged as the pass reports it (lvm's answers to its writes); the confirming
                # read that follows, beside it
                extra["confirmed_s"] = round(self.confirmed(d, mark) - t0, 3)
                self.record("edit+1", n, "ember daemon", rnd, t0, t1, cpu, **extra)
                expect(VG, new, f"daemon edit+1 at {n}")
                write_desired(vols, second=self.second)
                d.settle()
                sh(["lvremove", "-q", "-y", f"{VG}/new{rnd:03d}"])
                # a host at rest before the next edit: the daemon has read the lvremove (its
                # next timer's pass), as it has read everything before an operator's edit
                self.next_resync(d)
            d.settle()
            self.rss(d, n, "after the edits")
            self.shells_pss(d, n)
        finally:
            d.stop()

    def shells_pss(self, d, n):
        """The workers' kept lvm shells (lvm's memory, beside the daemon's own)."""
        shells = []
        for w in d.pids()[1:]:
            for t in Path(f"/proc/{w}/task").iterdir():
                for k in (t / "children").read_text().split():
                    if Path(f"/proc/{k}/comm").read_text().strip() == "lvm":
                        shells.append(int(k))
        pss = [memory_kib(p)["pss"] for p in shells]
        row = {"scenario": "lvm-shells", "n": n, "contender": "ember daemon", "pss_kib": pss}
        self.out.write(json.dumps(row) + "\n")
        self.out.flush()
        log(f"kept lvm shells: Pss {pss} KiB")

    @staticmethod
    def confirmed(d, mark):
        """When the daemon's log shows the read after the edit's pass: its "confirmed" line,
        or the next pass (one with something to do, or started by another request, reads too)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lines = [x for x in d.log_path.read_text(errors="replace")[mark:].splitlines()
                     if VG2 not in x and ("confirmed:" in x or "pass (" in x)]
            done = [i for i, x in enumerate(lines) if re.search(r"pass \([^)]*\): [1-9]", x)]
            if done and len(lines) > done[0] + 1:
                return time.monotonic()
            time.sleep(0.02)
        raise BenchError("no read after the edit's pass")

    def one_new(self, n, who, rnd, vols):
        name = f"one{rnd:03d}"
        new = vols + [(name, 64)]
        if who == "lvcreate -T":
            t0, t1, cpu, _ = self.timed(["lvcreate", "-q", "-y", "-T", "-V", "64m", "-n", name, f"{VG}/{POOL}"])
            self.record("edit+1", n, who, rnd, t0, t1, cpu)
        else:
            self.measured("edit+1", n, who, rnd, "ensure", new, new)
        expect(VG, new, f"{who} +1 at {n}")
        sh(["lvremove", "-q", "-y", f"{VG}/{name}"])

    def run(self):
        a = self.a
        lvm = sh(["lvm", "version"]).splitlines()[0].split(":", 1)[-1].strip()
        self.out.write(json.dumps({"scenario": "meta", "kernel": os.uname().release, "lvm": lvm,
                                   "cpus": os.cpu_count()}) + "\n")
        fresh_vg(VG, POOL, self.disks[0], ember=self.ember)
        fresh_vg(VG2, POOL2, self.disks[1], pool_size="1G", ember=self.ember)
        have = 0
        for n in a.ns:
            grow_to(n, have)
            have = n
            vols = volume_set(n)
            expect(VG, vols, f"grown to {n}")
            self.daemon_phase(n, vols, a.rounds)
            idle = [c for c in ("shell loop", "os-brick", "ember apply") if c in a.contenders]
            plus = [c for c in ("lvcreate -T", "ember apply", "os-brick") if c in a.contenders]
            for rnd in range(1, a.rounds + 1):
                if "ember apply" in a.contenders:
                    # ember's last look at the VG, untimed: the +1 volumes of the last round were
                    # removed since (so "nothing to do" is "nothing changed since ember looked")
                    self.contender("ember apply", "ensure", vols)
                for c in self.rotate(idle, rnd):
                    self.steady(n, c, rnd)
                if "ember apply" in a.contenders:
                    # a host's first apply (after a boot: /run is empty)
                    self.steady(n, COLD, rnd)
                for c in self.rotate(plus, rnd):
                    self.one_new(n, c, rnd, vols)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ember", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--ns", default="10,100,500,1000")
    p.add_argument("--contenders", default="ember apply,ember daemon,shell loop,os-brick,lvcreate -T")
    a = p.parse_args()
    a.ns = [int(x) for x in a.ns.split(",") if x]
    a.contenders = [c.strip() for c in a.contenders.split(",")]
    a.bench_dir = Path(__file__).resolve().parent
    try:
        Scale(a).run()
    except BenchError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
    log("done")


if __name__ == "__main__":
    main()
