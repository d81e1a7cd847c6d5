#!/usr/bin/python3
"""The exports benchmark: guest side of `bench/run --exports` (a tests/vm/vm-run --systemd guest,
the kernel's LIO target, open-iscsi logging in over 127.0.0.1; wipes the guest's disks).

1. Edit -> a new thin volume exported over iSCSI with CHAP to this host's initiator and logged
   in (the disk's /dev/disk/by-path link is there), three ways, alternating within each round:
   - "by hand": `lvcreate -T`, then the targetcli calls an operator's script (or cinder-rtstool)
     makes, one `targetcli` process each: backstore, target, default portal out and
     127.0.0.1:3260 in, LUN, ACL, its CHAP pair, the TPG's authentication=1 (no saveconfig);
     then the login. Timed from the lvcreate's start to the disk's appearance.
   - "ember apply": the desired state written with the volume and `export: { hosts: [me] }`,
     `ember apply`, `ember connection --host me`, the login with its CHAP pair. Timed from the
     write to the disk's appearance.
   - "ember daemon": the daemon running (a backend of its own on the second disk), the desired
     state renamed into place, the pass it starts reporting converged in the daemon's journal
     line (the time "exported" in the row), then `ember connection` and the login. Timed from
     the rename to the disk's appearance.
   The login is os-brick's: `iscsiadm -m node -o new`, the CHAP pair set, `--login`. Between
   rounds, untimed: logout, the export and the volume removed (ember: hosts [], then absent).
2. A pass with nothing to do at --n volumes (ember's, made as bench/scale.py makes them), the
   first --exported of them exported to this host, the daemon converged: the passes its timer
   starts and passes asked by `ember reconcile`, with every process start counted by the
   kernel (sched_process_fork and sched_process_exec): those descending from the daemon's
   processes, which must be none, and those of the whole guest beside them.
3. The daemon's memory (supervisor + 2 workers, Pss) after the export scenarios and at the
   --n/--exported state.
Rows: scenario "export" (contenders as above), "steady" and "rss" as bench/guest.py writes them.
"""
import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True   # the project directory is shared with the guest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import (POOL, POOL2, TRACE, VG, VG2, WORK, Bench, BenchError, Daemon,  # noqa: E402
                   ExecTracer, busy_cpu, expect, fresh_vg, log, sh, volume_set, write_conf)
from scale import grow_to  # noqa: E402

CONFIGFS = Path("/sys/kernel/config")
PREFIX = "iqn.2010-10.org.openstack:"   # cinder's target_prefix, ember's default
PORTAL = "127.0.0.1:3260"
# the target and initiator modules, as tests/vm_exports/support.rs loads them
MODULES = ["configfs", "target_core_iblock", "iscsi_target_mod", "iscsi_tcp"]
BY_HAND, APPLY, DAEMON = "by hand (lvcreate + targetcli)", "ember apply", "ember daemon"


def prepare_guest():
    """The target and initiator modules, configfs, loopback, iscsid; this host's initiator IQN."""
    sh(["modprobe", "-a"] + MODULES)
    if not (CONFIGFS / "target").is_dir():
        sh(["mount", "-t", "configfs", "configfs", str(CONFIGFS)])
    sh(["ip", "link", "set", "lo", "up"])
    sh(["systemctl", "start", "iscsid.service"])
    text = Path("/etc/iscsi/initiatorname.iscsi").read_text()
    m = re.search(r"^InitiatorName=(\S+)", text, re.M)
    if not m:
        raise BenchError("no InitiatorName in /etc/iscsi/initiatorname.iscsi")
    return m.group(1)


def export_conf(path, backends, desired, extra=""):
    """bench/guest.py's cinder.conf, each backend exporting through LIO on 127.0.0.1, CHAP in a
    state directory of the benchmark's own."""
    write_conf(path, backends, desired, f"state_dir = {WORK}/state\n{extra}")
    text = path.read_text()
    for b in backends:
        text = text.replace(f"volume_group = {b}\n",
                            f"volume_group = {b}\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n")
    path.write_text(text)


def write_yaml(path, backends):
    """backends: [(vg, pool size, [(name, MiB, hosts or None)], [absent names])]; renamed into place."""
    lines = ["backends:"]
    for vg, pool_size, vols, absent in backends:
        entries = []
        for n, s, hosts in vols:
            exp = "" if hosts is None else f", export: {{ hosts: [{', '.join(hosts)}] }}"
            entries.append(f"      {n}: {{ size: {s}M{exp} }}")
        entries += [f"      {n}: {{ state: absent }}" for n in absent]
        lines += [f"  {vg}:", f"    thin_pool: {{ size: {pool_size} }}"]
        lines += ["    volumes:"] + entries if entries else ["    volumes: {}"]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)


def disk_link(iqn):
    return Path(f"/dev/disk/by-path/ip-{PORTAL}-iscsi-{iqn}-lun-0")


def login(iqn, user, password, timeout=60):
    """As os-brick's ISCSIConnector logs in: a node record, its CHAP pair, the login; then until
    udev made the disk's link. Raises when the login fails."""
    node = ["iscsiadm", "-m", "node", "-T", iqn, "-p", PORTAL]
    sh(node + ["-o", "new"])
    for n, v in (("node.session.auth.authmethod", "CHAP"), ("node.session.auth.username", user),
                 ("node.session.auth.password", password), ("node.session.initial_login_retry_max", "1")):
        sh(node + ["-o", "update", "-n", n, "-v", v])
    sh(node + ["--login"])
    deadline = time.monotonic() + timeout
    while not disk_link(iqn).exists():
        if time.monotonic() > deadline:
            raise BenchError(f"logged in to {iqn}, but no {disk_link(iqn)} after {timeout} s")
        time.sleep(0.01)


def logout(iqn):
    node = ["iscsiadm", "-m", "node", "-T", iqn, "-p", PORTAL]
    sh(node + ["--logout"], check=False)
    sh(node + ["-o", "delete"], check=False)


class Tracer(ExecTracer):
    """bench/guest.py's exec tracer, with the forks too: which process started which."""

    def __init__(self):
        super().__init__()
        (TRACE / "events/sched/sched_process_fork/enable").write_text("1")
        self.all = []   # (mono seconds, "fork", parent tid, child pid) or (t, "exec", pid, name)

    def drain(self):
        text = (TRACE / "trace").read_text(errors="replace")
        (TRACE / "trace").write_text("")
        for line in text.splitlines():
            if line.startswith("#"):
                m = re.search(r"entries-in-buffer/entries-written: (\d+)/(\d+)", line)
                if m and m.group(1) != m.group(2):
                    raise BenchError("the trace lost events: raise buffer_size_kb")
                continue
            m = re.search(r"\s(\d+\.\d+): sched_process_exec: filename=(\S+) pid=(\d+)", line)
            if m:
                self.all.append((float(m.group(1)), "exec", int(m.group(3)), os.path.basename(m.group(2))))
                self.events.append((float(m.group(1)), os.path.basename(m.group(2))))
                continue
            m = re.search(r"\s(\d+\.\d+): sched_process_fork: comm=.* pid=(\d+) child_comm=.* child_pid=(\d+)", line)
            if m:
                self.all.append((float(m.group(1)), "fork", int(m.group(2)), int(m.group(3))))

    def started(self, roots, t0, t1):
        """The programs exec'd in [t0, t1]: (those by tasks descending from `roots` (tids), all)."""
        self.drain()
        family, mine, every = set(roots), [], []
        for t, kind, a, b in sorted(self.all):
            if t > t1:
                break
            if kind == "fork" and a in family:
                family.add(b)
            elif kind == "exec" and t >= t0:
                every.append(b)
                if a in family:
                    mine.append(b)
        self.all = [e for e in self.all if e[0] > t1]
        return mine, every


def tids(d):
    """Every thread of the daemon's processes (the supervisor, its workers, their lvm shells)."""
    out, todo = [], [d.proc.pid]
    while todo:
        pid = todo.pop()
        for t in Path(f"/proc/{pid}/task").iterdir():
            out.append(int(t.name))
            todo += [int(k) for k in (t / "children").read_text().split()]
    return out


class Exports(Bench):
    RESYNC = 5

    def __init__(self, a):
        super().__init__(a)
        self.tracer = Tracer()
        (WORK / "state").mkdir(mode=0o700, exist_ok=True)
        # the daemon's backend is VG (bench/guest.py's Daemon follows its passes); by hand and
        # ember apply work on VG2, the same kind of thin pool on the other disk
        export_conf(WORK / "x-apply.conf", [VG2], WORK / "x-apply.yaml")
        export_conf(WORK / "x-daemon.conf", [VG], WORK / "x-daemon.yaml")
        export_conf(WORK / "x-scale.conf", [VG, VG2], WORK / "x-scale.yaml",
                    f"resync_interval = {self.RESYNC}\npool_check_interval = 3600\n")
        self.me = prepare_guest()
        self.gone = {VG: [], VG2: []}   # the volumes each desired state declares absent

    def ember_cmd(self, conf, *args, check=True):
        return sh([self.ember, "--config-file", str(conf), *args], check=check)

    def connect(self, conf, backend, name):
        """`ember connection` for this host, then the login with its CHAP pair."""
        c = json.loads(self.ember_cmd(conf, "connection", "--backend", backend, name, "--host", self.me))
        data = c["data"]
        if c.get("driver_volume_type") != "iscsi" or data.get("target_portal") != PORTAL:
            raise BenchError(f"ember connection: not an iSCSI export at {PORTAL}: {c}")
        login(data["target_iqn"], data["auth_username"], data["auth_password"])
        return data["target_iqn"]

    def record_export(self, who, rnd, t0, t1, cpu, **extra):
        started = self.tracer.started([], t0, t1)[1]
        extra["procs"] = len(started)
        extra["targetcli"] = started.count("targetcli")
        extra["proc_names"] = dict(sorted(Counter(started).items()))
        return self.record("export", 1, who, rnd, t0, t1, cpu, **extra)

    # --- the three ways ------------------------------------------------------------------------
    def by_hand(self, rnd):
        name = f"hand{rnd:03d}"
        iqn, tpg = PREFIX + name, f"/iscsi/{PREFIX}{name}/tpg1"
        user, password = secrets.token_hex(10), secrets.token_hex(8)
        steps = [
            ["lvcreate", "-q", "-y", "-T", f"{VG2}/{POOL2}", "-V", "64m", "-n", name],
            ["targetcli", "/backstores/block", "create", f"name={name}", f"dev=/dev/{VG2}/{name}"],
            ["targetcli", "/iscsi", "create", iqn],
            ["targetcli", f"{tpg}/portals", "delete", "0.0.0.0", "3260"],
            ["targetcli", f"{tpg}/portals", "create", "127.0.0.1", "3260"],
            ["targetcli", f"{tpg}/luns", "create", f"/backstores/block/{name}"],
            ["targetcli", f"{tpg}/acls", "create", self.me],
            ["targetcli", f"{tpg}/acls/{self.me}", "set", "auth", f"userid={user}", f"password={password}"],
            ["targetcli", tpg, "set", "attribute", "authentication=1"],
        ]
        cpu0, t0 = busy_cpu(), time.monotonic()
        for argv in steps:
            # the default portal is not there when the kernel refused 0.0.0.0:3260 beside
            # another target's 127.0.0.1:3260; a script goes on, as this one does
            sh(argv, check=argv[2:3] != ["delete"])
        login(iqn, user, password)
        t1 = time.monotonic()
        self.record_export(BY_HAND, rnd, t0, t1, busy_cpu() - cpu0)
        logout(iqn)
        sh(["targetcli", "/iscsi", "delete", iqn])
        sh(["targetcli", "/backstores/block", "delete", name])
        sh(["lvremove", "-q", "-y", f"{VG2}/{name}"])

    def apply(self, rnd):
        name, conf, yaml = f"apply{rnd:03d}", WORK / "x-apply.conf", WORK / "x-apply.yaml"
        cpu0, t0 = busy_cpu(), time.monotonic()
        write_yaml(yaml, [(VG2, "1G", [(name, 64, [self.me])], self.gone[VG2])])
        self.ember_cmd(conf, "apply", "--backend", VG2)
        iqn = self.connect(conf, VG2, name)
        t1 = time.monotonic()
        self.record_export(APPLY, rnd, t0, t1, busy_cpu() - cpu0)
        logout(iqn)
        write_yaml(yaml, [(VG2, "1G", [(name, 64, [])], self.gone[VG2])])
        self.ember_cmd(conf, "apply", "--backend", VG2)
        self.gone[VG2].append(name)
        write_yaml(yaml, [(VG2, "1G", [], self.gone[VG2])])
        self.ember_cmd(conf, "apply", "--backend", VG2)

    def daemon(self, d, rnd):
        name, conf, yaml = f"daemon{rnd:03d}", WORK / "x-daemon.conf", WORK / "x-daemon.yaml"
        t0, t_exported, cpu, extra = d.measure(
            lambda: write_yaml(yaml, [(VG, "4G", [(name, 64, [self.me])], self.gone[VG])]), 1)
        c0 = busy_cpu()
        iqn = self.connect(conf, VG, name)
        t1 = time.monotonic()
        self.record_export(DAEMON, rnd, t0, t1, cpu + busy_cpu() - c0,
                           exported_s=round(t_exported - t0, 3), **extra)
        logout(iqn)
        write_yaml(yaml, [(VG, "4G", [(name, 64, [])], self.gone[VG])])
        d.wait_converged(1)
        self.gone[VG].append(name)
        write_yaml(yaml, [(VG, "4G", [], self.gone[VG])])
        d.wait_converged(1)
        d.settle()

    def export_rounds(self):
        fresh_vg(VG, POOL, self.disks[0], ember=self.ember)
        fresh_vg(VG2, POOL2, self.disks[1], pool_size="1G", ember=self.ember)
        write_yaml(WORK / "x-daemon.yaml", [(VG, "4G", [], [])])
        d = Daemon(self.ember, WORK / "x-daemon.conf")
        try:
            for rnd in range(1, self.a.rounds + 1):
                for who in self.rotate([BY_HAND, APPLY, DAEMON], rnd):
                    {BY_HAND: lambda: self.by_hand(rnd), APPLY: lambda: self.apply(rnd),
                     DAEMON: lambda: self.daemon(d, rnd)}[who]()
            expect(VG, [], "after the export rounds")
            expect(VG2, [], "after the export rounds")
            left = sorted(p.name for p in (CONFIGFS / "target/iscsi").glob("iqn.*"))
            if left:
                raise BenchError(f"targets left after the export rounds: {left}")
            self.rss(d, 0, "after the export scenarios (1 backend exporting)")
        finally:
            d.stop()

    # --- nothing to do at N volumes, E exported ---------------------------------------------------
    def noop(self, n, e):
        grow_to(n, 0)
        vols = volume_set(n)
        expect(VG, vols, f"grown to {n}")
        yaml = WORK / "x-scale.yaml"
        write_yaml(yaml, [(VG, "4G", [(v, s, [self.me] if i < e else None) for i, (v, s) in enumerate(vols)],
                           self.gone[VG]), (VG2, "1G", [], self.gone[VG2])])
        t = time.monotonic()
        d = Daemon(self.ember, WORK / "x-scale.conf")
        try:
            while True:   # until a pass reports everything converged (exit 0)
                p = subprocess.run([self.ember, "--config-file", str(WORK / "x-scale.conf"), "reconcile",
                                    "--wait"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if p.returncode == 0:
                    break
                if p.returncode != 2 or time.monotonic() - t > 3600:
                    raise BenchError(f"reconcile --wait exited {p.returncode}:\n{p.stdout[-3000:]}")
            log(f"the daemon exported {e} of {n} volumes in {time.monotonic() - t:.0f} s")
            made = [x for x in (CONFIGFS / "target/iscsi").glob(PREFIX + "*")
                    if (x / "tpgt_1/acls" / self.me).is_dir()]
            if len(made) != e:
                raise BenchError(f"{len(made)} targets with this host's ACL, want {e}")
            # one of them, logged in and out (untimed): the exports are real
            self.connect(WORK / "x-scale.conf", VG, vols[0][0])
            logout(PREFIX + vols[0][0])
            self.rss(d, n, f"converged, {e} exported")
            # the lvm shells close 5 s after a worker's last pass: a host at rest
            time.sleep(8)
            d.settle()
            for rnd in range(1, self.a.rounds + 1):
                self.timer_pass(d, n, e, rnd)
            for rnd in range(1, self.a.rounds + 1):
                d.settle()
                roots = tids(d)
                t0, t1, cpu, extra = d.measure(lambda: self.ember_cmd(
                    WORK / "x-scale.conf", "reconcile", "--backend", VG), 0, trigger="reconcile")
                self.record_noop(n, e, "ember daemon", rnd, roots, t0, t1, cpu, **extra)
            self.rss(d, n, f"after the passes with nothing to do, {e} exported")
        finally:
            d.stop()

    def timer_pass(self, d, n, e, rnd):
        """The next pass the daemon's timer starts (bench/scale.py's resync_pass): its window is
        from the end of the previous timer pass seen to the end of this one, so it holds the
        whole of it and the daemon's quiet before it."""
        d.settle()
        roots, t0 = tids(d), time.monotonic()
        deadline = t0 + 3 * self.RESYNC + 60
        while time.monotonic() < deadline:
            text = d.log_path.read_text(errors="replace")
            new, d.offset = text[d.offset:], len(text)
            line = next((x for x in new.splitlines() if "pass (resync)" in x and VG2 not in x), None)
            t1 = time.monotonic()
            m = re.search(r"duration_ms=(\d+)", line or "")
            ms = int(m.group(1)) if m else 0
            if line and t1 - ms / 1000 < t0:
                line = None   # it began before the window: the next one
            if line:
                calls = re.search(r"lvm_calls=(\d+)", line)
                # the row's time is the pass's own (its duration_ms); the processes are counted
                # over the whole window
                return self.record_noop(n, e, "ember daemon, timer's pass", rnd, roots, t0, t1, 0.0,
                                        wall_from=t1 - ms / 1000, window_s=round(t1 - t0, 3),
                                        lvm_calls=int(calls.group(1)) if calls else None)
            time.sleep(0.05)
        raise BenchError("no resync pass")

    def record_noop(self, n, e, who, rnd, roots, t0, t1, cpu, wall_from=None, **extra):
        mine, every = self.tracer.started(roots, t0, t1)
        row = self.record("steady", n, who, rnd, t0 if wall_from is None else wall_from, t1, cpu,
                          exported=e, started=len(mine),
                          started_names=sorted(set(mine)), guest_execs=sorted(every), **extra)
        if mine:
            raise BenchError(f"the daemon started processes in a pass with nothing to do: {mine}")
        return row

    def run(self):
        a = self.a
        lvm = sh(["lvm", "version"]).splitlines()[0].split(":", 1)[-1].strip()
        tcli = sh(["dpkg-query", "-W", "-f", "${Version}", "targetcli-fb"], check=False).strip()
        self.out.write(json.dumps({"scenario": "meta", "kernel": os.uname().release, "lvm": lvm,
                                   "cpus": os.cpu_count(), "targetcli": tcli}) + "\n")
        log(f"lvm {lvm}, kernel {os.uname().release}, targetcli-fb {tcli}; initiator {self.me}")
        if a.rounds > 0:
            self.export_rounds()
        else:
            fresh_vg(VG, POOL, self.disks[0], ember=self.ember)
            fresh_vg(VG2, POOL2, self.disks[1], pool_size="1G", ember=self.ember)
        if a.n > 0:
            self.noop(a.n, a.exported)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ember", required=True)
    p.add_argument("--venv", default="")
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--n", type=int, default=1000, help="volumes for the pass with nothing to do (0: none)")
    p.add_argument("--exported", type=int, default=100, help="how many of them are exported")
    a = p.parse_args()
    a.bench_dir = Path(__file__).resolve().parent
    try:
        Exports(a).run()
    except BenchError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
    log("done")


if __name__ == "__main__":
    main()
