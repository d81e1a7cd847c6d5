#!/usr/bin/python3
"""The benchmark's guest side: runs inside a tests/vm/vm-run guest, on real LVM thin.

Started by bench/run (never by hand: it wipes the guest's disks). Every contender starts from an
empty thin pool on a fresh volume group; contenders alternate within each round. Each
measurement is one JSON line in --out: scenario, n, contender, round, wall_s, cpu_s, lvm_procs.

lvm processes are counted by the kernel, not by the contenders: the sched_process_exec
tracepoint (tracefs, trace_clock=mono) records every exec; a measurement counts the execs of
lvm and its lv*/vg*/pv* links inside its own time window. CPU time is user+system of the
guest during the window (it runs nothing else), so helpers such as os-brick's privsep daemon and
udev count too. Each measurement is checked afterwards (the volumes and sizes lvs reports); a
contender that did not converge fails the benchmark.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

VG, POOL = "bench", "bench-pool"
VG2, POOL2 = "bench2", "bench2-pool"
SIZES_MIB = [64, 128, 256, 512, 1024]   # "mixed sizes", cycled
WORK = Path("/tmp/bench")
TRACE = Path("/sys/kernel/tracing")
LVM_NAMES = re.compile(r"^(lvm|lvmconfig|(lv|vg|pv)(create|s|display|extend|remove|change|rename|resize|reduce|scan|ck|cfgbackup|convert))$")


class BenchError(Exception):
    pass


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(argv, check=True, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        raise BenchError(f"{' '.join(map(str, argv))} exited {p.returncode}:\n{p.stdout[-3000:]}")
    return p.stdout


# --- counting lvm processes ------------------------------------------------------------------
class ExecTracer:
    def __init__(self):
        if not (TRACE / "trace").exists():
            sh(["mount", "-t", "tracefs", "nodev", str(TRACE)])
        (TRACE / "trace_clock").write_text("mono")
        (TRACE / "buffer_size_kb").write_text("32768")
        (TRACE / "events/sched/sched_process_exec/enable").write_text("1")
        (TRACE / "tracing_on").write_text("1")
        self.events = []   # (mono seconds, basename)

    def drain(self):
        """Reads and clears the trace buffer."""
        text = (TRACE / "trace").read_text(errors="replace")
        (TRACE / "trace").write_text("")
        lost = 0
        for line in text.splitlines():
            if line.startswith("#"):
                m = re.search(r"entries-in-buffer/entries-written: (\d+)/(\d+)", line)
                if m and m.group(1) != m.group(2):
                    lost = int(m.group(2)) - int(m.group(1))
                continue
            m = re.search(r"\s(\d+\.\d+): sched_process_exec: filename=(\S+)", line)
            if m:
                self.events.append((float(m.group(1)), os.path.basename(m.group(2))))
        if lost:
            raise BenchError(f"the exec trace lost {lost} events: raise buffer_size_kb")

    def count(self, t0, t1):
        self.drain()
        n = sum(1 for t, name in self.events if t0 <= t <= t1 and LVM_NAMES.match(name))
        self.events = [e for e in self.events if e[0] > t1]
        return n


def busy_cpu():
    """Busy CPU seconds of the whole guest (user, nice, system, irq, softirq): the guest runs
    nothing else, and this also catches what a contender's daemons (os-brick's privsep, udev,
    kernel threads for device-mapper) spend on its behalf."""
    f = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return sum(int(f[i]) for i in (1, 2, 3, 6, 7)) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid):
    """VmRSS, RssAnon and Pss of a process. VmRSS counts every page the process maps, so the
    pages of ember's binary and libc, which the supervisor and its workers share, are counted
    once per process; Pss divides each shared page among its sharers, so the Pss of the three
    processes adds up to what they really occupy. RssAnon is each one's own heap and stacks."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    pss = next((line.split()[1] for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                if line.startswith("Pss:")), "0")
    return {"rss": int(status.get("VmRSS", "0 kB").split()[0]),
            "anon": int(status.get("RssAnon", "0 kB").split()[0]), "pss": int(pss)}


# ember apply with `[ember] lvm_shell = false`: one lvm process per command, as before the shell
NO_SHELL = "ember apply (no lvm shell)"
# ember apply with nothing kept in run_dir/memory: the first apply on a host, or after a reboot
COLD = "ember apply, nothing kept"


# --- volume groups ----------------------------------------------------------------------------
def fresh_vg(vg, pool, disk, pool_size="4G", ember=None):
    """An empty thin pool on a fresh volume group (outside any measurement). With `ember`, the
    pool is ember's own (`ember apply` of a desired state with the pool alone): its metadata
    rule leaves room for 5000 thin volumes, where lvm's default for a 4 GiB pool (about 4 MiB)
    filled up at 643 (2026-11-30: "free space in thin pool ... reached threshold")."""
    if vg in sh(["vgs", "--noheadings", "-o", "vg_name"], check=False).split():
        sh(["vgchange", "-an", vg], check=False)
        sh(["vgremove", "-ff", "-y", vg], check=False)
    sh(["wipefs", "-a", "-q", disk], check=False)
    sh(["dd", "if=/dev/zero", f"of={disk}", "bs=1M", "count=32", "oflag=direct", "status=none"])
    sh(["pvcreate", "-q", "-y", "--metadatasize", "16m", disk])
    sh(["vgcreate", "-q", vg, disk])
    if ember is None:
        # the read-cost and floor runs time lvm alone: the same room for 1000+ volumes by hand
        sh(["lvcreate", "-q", "-y", "-T", "-L", pool_size, "--poolmetadatasize", "64m", "-n", pool, vg])
        return
    conf, desired = WORK / f"pool-{vg}.conf", WORK / f"pool-{vg}.yaml"
    write_conf(conf, [vg], desired)
    desired.write_text("\n".join(["backends:"] + backend_yaml(vg, pool_size, [])) + "\n")
    sh([ember, "--config-file", str(conf), "apply", "--backend", vg])


def observed(vg):
    """{name: MiB} of the volumes in vg, and the names of those that are not active."""
    out = sh(["lvs", "--noheadings", "--units", "m", "--nosuffix", "-o", "lv_name,lv_size,lv_attr", vg])
    got, inactive = {}, []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and not parts[0].startswith("[") and parts[0] != POOL and parts[0] != POOL2:
            got[parts[0]] = round(float(parts[1]))
            if parts[2][4] != "a":
                inactive.append(parts[0])
    return got, inactive


def expect(vg, volumes, what):
    """Every contender must leave exactly these volumes, with these sizes, all active."""
    got, inactive = observed(vg)
    want = dict(volumes)
    if inactive:
        raise BenchError(f"{what}: {len(inactive)} volumes are not active, e.g. {sorted(inactive)[:5]}")
    if got != want:
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        wrong = sorted(k for k in want if k in got and got[k] != want[k])[:5]
        raise BenchError(f"{what}: LVM does not match: {len(got)} volumes, want {len(want)}; "
                         f"missing {missing}, unexpected {extra}, wrong size {wrong}")


def volume_set(n, grow=0):
    return [(f"vol{i:04d}", SIZES_MIB[i % len(SIZES_MIB)] + grow) for i in range(n)]


# --- ember's files ------------------------------------------------------------------------------
def write_conf(path, backends, desired, extra=""):
    sections = "".join(f"[{b}]\nvolume_group = {b}\n\n" for b in backends)
    path.write_text(
        "[DEFAULT]\n"
        f"enabled_backends = {','.join(backends)}\n\n"
        "[backend_defaults]\n"
        "volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver\n"
        "lvm_type = thin\n"
        "# the mixed sizes provision far more than 20x the 4 GiB pool\n"
        "max_over_subscription_ratio = 1000\n\n"
        f"{sections}"
        "[ember]\n"
        f"desired_state = {desired}\n"
        "# deleting 100 volumes in one pass is what the benchmark asks for\n"
        "max_deletions_per_pass = 1000\n"
        f"run_dir = {WORK}/run\n"
        f"{extra}")


def backend_yaml(vg, pool_size, volumes, absent=()):
    entries = [f"      {n}: {{ size: {s}M }}" for n, s in volumes]
    entries += [f"      {n}: {{ state: absent }}" for n in absent]
    return [f"  {vg}:", f"    thin_pool: {{ size: {pool_size} }}"] + (
        ["    volumes:"] + entries if entries else ["    volumes: {}"])


def write_desired(volumes, absent=(), second=None, comment="", name="desired.yaml"):
    """Atomic (rename-over), as an operator's editor or config management writes it. `second`:
    the volumes of the daemon's second backend (None: no second backend)."""
    lines = [f"# {comment}", "backends:"] + backend_yaml(VG, "4G", volumes, absent)
    if second is not None:
        lines += backend_yaml(VG2, "1G", second)
    tmp = WORK / (name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, WORK / name)


class Daemon:
    PASS = re.compile(r"pass \(([^)]*)\): (\d+) done, (\d+) failed, (\d+) refused, (\d+) pending; (\d+) lvm call")

    def __init__(self, ember, conf):
        self.log_path = WORK / "daemon.log"
        self.log_path.write_text("")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock = WORK / "notify.sock"
        sock.unlink(missing_ok=True)
        self.notify.bind(str(sock))
        env = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "NOTIFY_SOCKET": str(sock)}
        self.proc = subprocess.Popen([ember, "--config-file", str(conf), "daemon"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"))
        self.offset = 0
        self.wait_notify("READY=1", 600)

    def wait_notify(self, what, timeout):
        self.notify.settimeout(timeout)
        while True:
            try:
                msg = self.notify.recv(4096).decode()
            except socket.timeout:
                raise BenchError(f"daemon: no {what} in {timeout} s:\n{self.log_path.read_text()[-3000:]}")
            if what in msg.split("\n"):
                return time.monotonic()

    def pids(self):
        kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [self.proc.pid] + [int(k) for k in kids]

    def passes(self):
        """New pass lines since the last call: (trigger, done, failed, refused, pending, calls)."""
        text = self.log_path.read_text(errors="replace")
        new, self.offset = text[self.offset:], len(text)
        out = []
        for line in new.splitlines():
            m = self.PASS.search(line)
            if m and f"backend={VG2}" not in line and f'backend="{VG2}"' not in line:
                out.append((m.group(1),) + tuple(int(g) for g in m.groups()[1:]))
            if " ERROR " in line or "pass failed" in line:
                raise BenchError(f"daemon: {line}")
        return out

    def settle(self):
        """Lets running passes finish and forgets their lines."""
        time.sleep(0.5)
        self.passes()

    def wait_converged(self, want_done, timeout=3600, trigger=None):
        """Until passes after the edit have done want_done actions and the last has none pending.
        With `trigger`, only passes started by it count: a pass with nothing to do must not be
        confused with one that was already running (a resync). Returns (the time it saw that,
        the number of passes)."""
        done = passes = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for why, d, failed, refused, pending, _calls in self.passes():
                if trigger is not None and why != trigger:
                    continue
                if failed or refused:
                    raise BenchError(f"daemon pass: {failed} failed, {refused} refused")
                done, passes = done + d, passes + 1
                if done >= want_done and pending == 0:
                    return time.monotonic(), passes
            time.sleep(0.02)
        raise BenchError(f"daemon: not converged after {timeout} s ({done}/{want_done} done)")

    def measure(self, start, want_done, trigger=None):
        """Times start() (an edit, a request) until the passes it causes converged."""
        self.settle()
        cpu0, t0 = busy_cpu(), time.monotonic()
        start()
        t1, passes = self.wait_converged(want_done, trigger=trigger)
        return t0, t1, busy_cpu() - cpu0, {"passes": passes}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.notify.close()


# --- the contenders -----------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.a = args
        self.py = args.venv + "/bin/python"
        self.disks = os.environ["VM_DISKS"].split()
        self.tracer = ExecTracer()
        self.out = open(args.out, "a")
        WORK.mkdir(parents=True, exist_ok=True)
        # ember runs from the guest's own filesystem, as an installed binary would, like lvm
        # does: the project directory is an uncached 9p share, where every start of the 4.7 MB
        # binary pages it in over virtio (measured 2026-11-30: `ember --version` 964 ms from the
        # share, 228 ms from the guest's tmpfs)
        (WORK / "bin").mkdir(exist_ok=True)
        self.ember = str(WORK / "bin/ember")
        shutil.copy(args.ember, self.ember)
        (WORK / "run").mkdir(exist_ok=True)
        os.chmod(WORK, 0o755)
        # apply has a desired-state file of its own: the daemon must not see apply's edits
        write_conf(WORK / "apply.conf", [VG], WORK / "apply.yaml")
        write_conf(WORK / "apply-exec.conf", [VG], WORK / "apply.yaml",
                   "# one lvm process per command, for comparison\nlvm_shell = false\n")
        write_conf(WORK / "daemon.conf", [VG, VG2], WORK / "desired.yaml")
        self.second = volume_set(5)

    def record(self, scenario, n, contender, rnd, t0, t1, cpu, **extra):
        row = {"scenario": scenario, "n": n, "contender": contender, "round": rnd,
               "wall_s": round(t1 - t0, 4), "cpu_s": round(cpu, 3),
               "lvm_procs": self.tracer.count(t0, t1), **extra}
        self.out.write(json.dumps(row) + "\n")
        self.out.flush()
        log(f"{scenario:<9} n={n:<4} {contender:<13} round {rnd}: {row['wall_s']:8.2f} s wall, "
            f"{row['cpu_s']:7.2f} s cpu, {row['lvm_procs']:4} lvm processes {extra or ''}")
        return row

    def timed(self, argv, env=None):
        c0, t0 = busy_cpu(), time.monotonic()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        t1 = time.monotonic()
        if p.returncode != 0:
            raise BenchError(f"{argv[0]} exited {p.returncode}:\n{p.stdout[-3000:]}")
        return t0, t1, busy_cpu() - c0, p.stdout

    # --- the contenders: each does one operation (create, ensure, extend, delete) on a volume list
    SHELL = {
        "create": 'while read -r n s; do lvcreate -q -y -T "bench/bench-pool" -V "${s}m" -n "$n" >/dev/null; done < "$1"',
        # a fair idempotent script: list once, create what is missing
        "ensure": ('declare -A have; for n in $(lvs --noheadings -o lv_name bench); do have[$n]=1; done; '
                   'while read -r n s; do [ -n "${have[$n]:-}" ] || '
                   'lvcreate -q -y -T "bench/bench-pool" -V "${s}m" -n "$n" >/dev/null; done < "$1"'),
        "extend": 'while read -r n s; do lvextend -q -L "${s}m" "bench/$n" >/dev/null; done < "$1"',
        "delete": 'while read -r n s; do lvremove -q -y "bench/$n" >/dev/null; done < "$1"',
    }

    def contender(self, who, op, volumes, daemon=None):
        """Runs one contender; returns (t0, t1, cpu, extra)."""
        if who in ("ember apply", NO_SHELL, COLD):
            if who == COLD:
                shutil.rmtree(WORK / "run" / "memory", ignore_errors=True)
            if op == "delete":
                write_desired([], absent=[n for n, _ in volumes], name="apply.yaml")
            else:
                write_desired(volumes, name="apply.yaml")
            conf = WORK / ("apply-exec.conf" if who == NO_SHELL else "apply.conf")
            t0, t1, cpu, _ = self.timed([self.ember, "--config-file", str(conf), "apply", "--backend", VG])
            return t0, t1, cpu, {}
        if who == "ember daemon" and op == "ensure":
            # `ember reconcile` returns once the worker has the request; the pass's end is its log line
            return daemon.measure(lambda: self.timed(
                [self.ember, "--config-file", str(WORK / "daemon.conf"), "reconcile", "--backend", VG]), 0,
                trigger="reconcile")
        if who == "shell loop":
            self.write_list(volumes)
            t0, t1, cpu, _ = self.timed(["bash", "-c", self.SHELL[op], "bench", str(WORK / "list")])
            return t0, t1, cpu, {}
        if who == "os-brick":
            return self.os_brick(op, volumes)
        if who == "ansible" and op in ("create", "ensure"):
            return self.ansible(volumes)
        raise BenchError(f"{who} has no {op} here")

    def write_list(self, volumes):
        (WORK / "list").write_text("".join(f"{n} {s}\n" for n, s in volumes))

    def os_brick(self, op, volumes):
        self.write_list(volumes)
        # os-brick's own calls go through oslo.privsep, which starts its daemon with
        # "sudo privsep-helper"; we are root already, so sudo is a pass-through shim
        shim = WORK / "bin/sudo"
        if not shim.exists():
            shim.parent.mkdir(exist_ok=True)
            shim.write_text('#!/bin/sh\nexec "$@"\n')
            shim.chmod(0o755)
        env = dict(os.environ, PYTHONWARNINGS="ignore",
                   PATH=f"{shim.parent}:{os.path.dirname(self.py)}:{os.environ['PATH']}")
        _t0, _t1, _cpu, out = self.timed([self.py, str(self.a.bench_dir / "osbrick_driver.py"), op, str(WORK / "list")], env=env)
        r = json.loads(out.strip().splitlines()[-1])
        # cinder-volume is long-running: its imports and LVM() set-up are paid once, not per
        # request, so the figure is the loop alone; the set-up is reported beside it
        return r["t0"], r["t1"], r["cpu"], {"setup_s": round(r["setup_s"], 3)}

    def ansible(self, volumes):
        tasks = "".join(
            f"    - community.general.lvol: {{vg: {VG}, lv: {n}, size: {s}m, thinpool: {POOL}}}\n"
            for n, s in volumes)
        pb = WORK / "playbook.yml"
        pb.write_text("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + tasks)
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_HOME=str(WORK / "ansible"),
                   ANSIBLE_PYTHON_INTERPRETER=self.py, PYTHONWARNINGS="ignore")
        bin_ = os.path.dirname(self.py) + "/ansible-playbook"
        t0, t1, cpu, _ = self.timed([self.py, bin_, "-i", "localhost,", str(pb)], env=env)
        return t0, t1, cpu, {}

    # --- scenarios -----------------------------------------------------------------------------
    def measured(self, scenario, n, who, rnd, op, volumes, want, daemon=None):
        """One contender, one operation, checked against lvs, recorded."""
        t0, t1, cpu, extra = self.contender(who, op, volumes, daemon)
        expect(VG, want, f"{scenario} {n} by {who}")
        return self.record(scenario, n, who, rnd, t0, t1, cpu, **extra)

    def converge(self, n, who, rnd):
        vols = volume_set(n)
        fresh_vg(VG, POOL, self.disks[0], ember=self.ember)
        if who != "ember daemon":
            return self.measured("converge", n, who, rnd, "create", vols, vols)
        write_desired([], second=self.second)
        d = Daemon(self.ember, WORK / "daemon.conf")
        try:
            t0, t1, cpu, extra = d.measure(lambda: write_desired(vols, second=self.second), n)
        finally:
            d.stop()
        expect(VG, vols, f"converge {n} by {who}")
        return self.record("converge", n, who, rnd, t0, t1, cpu, **extra)

    def steady(self, n, who, rnd, daemon=None):
        vols = volume_set(n)   # they exist: nothing to do
        return self.measured("steady", n, who, rnd, "ensure", vols, vols, daemon)

    def extend_delete(self, n, who, rnd):
        grown = volume_set(n, grow=64)
        self.measured("extend", n, who, rnd, "extend", grown, grown)
        self.measured("delete", n, who, rnd, "delete", grown, [])

    def daemon_figures(self, n_big, rounds, edits):
        """Converge n_big volumes with the daemon; steady state at n_big; footprint; reload."""
        fresh_vg(VG, POOL, self.disks[0], ember=self.ember)
        fresh_vg(VG2, POOL2, self.disks[1], pool_size="1G", ember=self.ember)
        write_desired([], second=self.second)
        d = Daemon(self.ember, WORK / "daemon.conf")
        try:
            vols = volume_set(n_big)
            t0, t1, cpu, extra = d.measure(lambda: write_desired(vols, second=self.second), n_big)
            expect(VG, vols, f"daemon converge {n_big}")
            self.record("converge", n_big, "ember daemon", 1, t0, t1, cpu, **extra)
            self.rss(d, n_big, "after converging")
            for rnd in range(1, rounds + 1):
                for c in self.rotate(["ember daemon", "shell loop", "os-brick"], rnd):
                    if c in self.a.contenders:
                        self.steady(n_big, c, rnd, daemon=d)
            if "ember apply" in self.a.contenders:
                # one writer per volume group: ember apply refuses a VG the daemon manages, so its
                # pass with nothing to do is measured with the daemon stopped
                d.stop()
                for rnd in range(1, rounds + 1):
                    self.steady(n_big, "ember apply", rnd)
                d = Daemon(self.ember, WORK / "daemon.conf")
            # reload latency: SIGHUP with unchanged backends -> READY=1
            for rnd in range(1, max(rounds, 5) + 1):
                time.sleep(0.3)
                t0 = time.monotonic()
                d.proc.send_signal(signal.SIGHUP)
                t1 = d.wait_notify("READY=1", 120)
                self.record("reload", n_big, "ember daemon", rnd, t0, t1, 0.0)
            # edit -> converged, one new volume
            for rnd in range(1, max(rounds, 5) + 1):
                vols = vols + [(f"new{rnd:03d}", 64)]
                t0, t1, cpu, extra = d.measure(lambda: write_desired(vols, second=self.second), 1)
                self.record("edit+1", n_big, "ember daemon", rnd, t0, t1, cpu, **extra)
            # a compressed hour of edits: a real change every 20 ms (an absent volume that never
            # existed comes and goes: a new desired state, a pass, nothing for lvm to do)
            d.settle()
            cpu0, t0 = busy_cpu(), time.monotonic()
            for i in range(edits):
                write_desired(vols, absent=[f"ghost{i % 7}"], second=self.second, comment=f"edit {i}")
                time.sleep(0.02)
            time.sleep(2)
            while True:   # until a quiet second: the last edit's pass has run
                got = d.passes()
                if not got:
                    break
                time.sleep(1)
            t1 = time.monotonic()
            self.record("edits", n_big, "ember daemon", 1, t0, t1, busy_cpu() - cpu0, edits=edits)
            expect(VG, vols, "after the edits")
            self.rss(d, n_big, f"after {edits} edits")
        finally:
            d.stop()

    def rss(self, d, n, when):
        pids = d.pids()
        mem = [memory_kib(p) for p in pids]
        kib = [m["rss"] for m in mem]
        row = {"scenario": "rss", "n": n, "contender": "ember daemon", "when": when,
               "supervisor_kib": kib[0], "workers_kib": kib[1:], "total_kib": sum(kib),
               "anon_kib": [m["anon"] for m in mem], "pss_total_kib": sum(m["pss"] for m in mem)}
        self.out.write(json.dumps(row) + "\n")
        self.out.flush()
        log(f"RSS {when}: supervisor {kib[0]} KiB, workers {kib[1:]} KiB, total {sum(kib)} KiB; "
            f"anon {row['anon_kib']} KiB; Pss total {row['pss_total_kib']} KiB")

    @staticmethod
    def rotate(xs, k):
        if not xs:   # (--contenders with the daemon alone leaves no other)
            return xs
        k %= len(xs)
        return xs[k:] + xs[:k]

    def run(self):
        a = self.a
        fresh_vg(VG2, POOL2, self.disks[1], pool_size="1G", ember=self.ember)
        lvm = sh(["lvm", "version"]).splitlines()[0].split(":", 1)[-1].strip()
        self.out.write(json.dumps({"scenario": "meta", "kernel": os.uname().release, "lvm": lvm,
                                   "cpus": os.cpu_count()}) + "\n")
        log(f"lvm {lvm}, kernel {os.uname().release}; contenders: {', '.join(a.contenders)}")
        for n in a.converge:
            for rnd in range(1, a.rounds + 1):
                for c in self.rotate(a.contenders, rnd):
                    if c == "ansible" and n > a.ansible_max and rnd > 1:
                        continue   # one round: at ~10 s per task under TCG, three would take hours
                    self.converge(n, c, rnd)
                    if c != "ember daemon" and n in a.steady:
                        self.steady(n, c, rnd)   # the same volumes again: nothing to do
                    if c in ("ember apply", NO_SHELL, "shell loop", "os-brick") and n == a.extend:
                        self.extend_delete(n, c, rnd)   # then grow and delete them
        if a.big > 0:
            self.daemon_figures(a.big, a.rounds, a.edits)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ember", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--converge", default="20,100")
    p.add_argument("--steady", default="100")
    p.add_argument("--extend", type=int, default=100)
    p.add_argument("--big", type=int, default=1000, help="0: no daemon figures")
    p.add_argument("--edits", type=int, default=1000)
    p.add_argument("--ansible-max", type=int, default=20, help="above this N, Ansible runs in round 1 only")
    p.add_argument("--contenders", default=f"ember apply,{NO_SHELL},ember daemon,shell loop,os-brick,ansible")
    a = p.parse_args()
    a.converge = [int(x) for x in a.converge.split(",") if x]
    a.steady = [int(x) for x in a.steady.split(",") if x]
    a.contenders = [c.strip() for c in a.contenders.split(",")]
    a.bench_dir = Path(__file__).resolve().parent
    try:
        Bench(a).run()
    except BenchError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
    log("done")


if __name__ == "__main__":
    main()
