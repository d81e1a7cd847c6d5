#!/usr/bin/python3
"""What it costs to know that a VG is unchanged, and to create one volume, at N thin volumes:
lvm reads (as processes and in one lvm shell), one lvcreate, the metadata area header read
directly, the device-mapper device names from sysfs and from dmsetup. Guest side of
`bench/run --freshness`; wipes the guest's first disk. The figures behind the stamp
(docs/decisions.md). Rows: {n, what, ms}."""
import argparse, glob, json, mmap, os, subprocess, sys, time
VG, POOL = "bench", "bench-pool"
ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--n", type=int, default=1000)
args = ap.parse_args()
out = open(args.out, "a")
n = args.n
disk = os.environ["VM_DISKS"].split()[0]

def sh(argv, check=True):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and p.returncode: raise SystemExit(f"{argv}: {p.stdout}")
    return p.stdout

class Shell:
    def __init__(self):
        r, w = os.pipe()
        env = dict(os.environ, LVM_COMMAND_PROFILE="lvmdbusd", LVM_REPORT_FD="3", LVM_SUPPRESS_FD_WARNINGS="1")
        self.p = subprocess.Popen(["lvm"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=env, pass_fds=(3,), preexec_fn=lambda: (os.dup2(w, 3)), text=True)
        os.close(w); self.r = r; self.buf = ""
        self.run("version")
    def run(self, line):
        self.p.stdin.write(line + "\n"); self.p.stdin.flush()
        dec = json.JSONDecoder()
        while True:
            s = self.buf.lstrip()
            if s:
                try:
                    doc, end = dec.raw_decode(s); self.buf = s[end:]; return doc
                except json.JSONDecodeError: pass
            chunk = os.read(self.r, 1 << 20).decode()
            if not chunk: raise SystemExit("shell died")
            self.buf += chunk

def rec(what, t):
    out.write(json.dumps({"n": n, "what": what, "ms": round(t * 1000, 1)}) + "\n"); out.flush()
    print(f"n={n} {what}: {t*1000:.0f} ms", flush=True)

def timed(what, f, rounds=3, after=None):
    for _ in range(rounds):
        t = time.monotonic(); f(); rec(what, time.monotonic() - t)
        if after: after()

# fresh VG
sh(["wipefs", "-a", "-q", disk], check=False)
sh(["pvcreate", "-q", "-y", "--metadatasize", "16m", disk]); sh(["vgcreate", "-q", VG, disk])
sh(["lvcreate", "-q", "-y", "-T", "-L", "4G", "--poolmetadatasize", "64m", "-n", POOL, VG])
sh_ = Shell()
t = time.monotonic()
for i in range(n):
    sh_.run(f"lvcreate -q -y -T -V 8m -an -n v{i} --addtag ember-managed {VG}/{POOL}")
for i in range(0, n, 50):
    sh_.run("lvchange -q -ay " + " ".join(f"{VG}/v{j}" for j in range(i, min(n, i + 50))))
print(f"setup {n}: {time.monotonic()-t:.0f} s", flush=True)

probe = lambda: sh(["lvremove", "-q", "-y", f"{VG}/probe"])
timed("process: lvs -o lv_name", lambda: sh(["lvs", "--noheadings", "-o", "lv_name", VG]))
timed("process: vgs -o vg_seqno", lambda: sh(["vgs", "--noheadings", "-o", "vg_seqno", VG]))
timed("process: lvcreate -T (active)", lambda: sh(["lvcreate", "-q", "-y", "-T", "-V", "8m", "-n", "probe", f"{VG}/{POOL}"]), after=probe)
timed("process: lvcreate -T --addtag (active)", lambda: sh(["lvcreate", "-q", "-y", "-T", "-V", "8m", "--addtag", "ember-managed", "-n", "probe", f"{VG}/{POOL}"]), after=probe)
timed("shell: vgs -o vg_seqno", lambda: sh_.run(f"vgs -o vg_seqno {VG}"), rounds=5)
timed("shell: lvs -o lv_name", lambda: sh_.run(f"lvs -o lv_name {VG}"))
timed("shell: lvcreate -T (active)", lambda: sh_.run(f"lvcreate -q -y -T -V 8m --addtag ember-managed -n probe {VG}/{POOL}"), after=probe)
full = (f"fullreport --units b --nosuffix --configreport vg -o vg_name,vg_size,vg_free,vg_extent_size,vg_seqno "
        f"--configreport lv -o lv_name,lv_attr,lv_layout,lv_size,pool_lv,lv_tags --configreport pv -o pv_name "
        f"--configreport pvseg -o pvseg_start --configreport seg -o segtype -S segtype=thin-pool -- {VG}")
timed("shell: fullreport", lambda: sh_.run(full))
def mda():
    fd = os.open(disk, os.O_RDONLY | os.O_DIRECT)
    m = mmap.mmap(-1, 4096); os.preadv(fd, [m], 4096); os.close(fd); return bytes(m[:512])
timed("raw: mda header read", mda, rounds=5)
def dmnames():
    return [open(p).read() for p in glob.glob("/sys/block/dm-*/dm/name")]
timed("sysfs: dm names", dmnames, rounds=5)
timed("process: dmsetup info -c (names)", lambda: sh(["dmsetup", "info", "-c", "--noheadings", "-o", "name"]))
timed("process: dmsetup status thin-pool", lambda: sh(["dmsetup", "status", "--target", "thin-pool"]))
