#!/usr/bin/python3
"""Renders bench/guest.py's (or bench/floor.py's) raw JSON lines as markdown tables: medians, spread (min-max) and
the ratio to the bare shell loop measured in the same run.

    report.py RAW.jsonl [--vm DESCRIPTION] [--plot FILE.svg]

A row's ratio is to the shell loop of the same N in the same run; for an edit adding one
volume, to one bare `lvcreate -T` when the run measured it (bench/scale.py). --plot draws the
scale series (bench/plot.py).
"""
import argparse
import json
import statistics
from collections import defaultdict

ORDER = ["by hand (lvcreate + targetcli)", "ember apply", "ember apply, nothing kept", "ember daemon", "ember daemon, timer's pass", "shell loop", "lvcreate -T",
         "os-brick", "ansible"]
TITLES = {
    "converge": "Converge N thin volumes from nothing",
    "steady": "A pass with nothing to do, N volumes exist",
    "extend": "Extend N volumes (+64 MiB each)",
    "delete": "Delete N volumes",
    "reload": "SIGHUP with unchanged backends -> READY=1",
    "edit+1": "Edit the desired state -> one new volume converged",
    "edits": "Rewrites of the desired state every 20 ms (an hour of edits, compressed)",
    "export": "Edit -> a new thin volume exported over iSCSI with CHAP and logged in (bench/exports.py)",
}
# the contender a scenario's ratio is to, when the run measured it (else the shell loop)
BASES = {"edit+1": "lvcreate -T", "export": "by hand (lvcreate + targetcli)"}


def fmt_s(xs):
    med = statistics.median(xs)
    if len(xs) == 1:
        return f"{med:.2f}"
    return f"{med:.2f} ({min(xs):.2f}-{max(xs):.2f})"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("raw")
    p.add_argument("--vm", default="")
    p.add_argument("--plot", help="write the scale series as an SVG here")
    a = p.parse_args()
    rows = [json.loads(line) for line in open(a.raw) if line.strip()]
    if rows and "wall_s" in rows[0] and "variant" in rows[0]:
        return read_cost(rows)
    if rows and "variant" in rows[0]:
        return floor(rows)
    groups = defaultdict(list)
    rss = []
    shells = []
    meta = next((r for r in rows if r["scenario"] == "meta"), None)
    if meta:
        a.vm += f", guest kernel {meta['kernel']}, {meta['cpus']} vCPU, lvm {meta['lvm']}"
    for r in rows:
        if r["scenario"] == "meta":
            continue
        if r["scenario"] == "rss":
            rss.append(r)
        elif r["scenario"] == "lvm-shells":
            shells.append(r)
        else:
            groups[(r["scenario"], r["n"], r["contender"])].append(r)
    print(f"Benchmark `{a.raw}`: {a.vm}. Time in seconds, median (min-max) over the runs counted.")
    print()
    for scenario, title in TITLES.items():
        keys = sorted({(n, c) for (s, n, c) in groups if s == scenario},
                      key=lambda k: (k[0], ORDER.index(k[1]) if k[1] in ORDER else 99))
        if not keys:
            continue
        base = BASES.get(scenario, "shell loop")
        if not any(s == scenario and c == base for (s, _, c) in groups):
            base = "shell loop"
        print(f"**{title}**")
        print()
        print(f"| N | contender | wall s | x {base} | CPU s | lvm processes | runs |")
        print("|---:|---|---|---:|---|---:|---:|")
        for n, c in keys:
            g = groups[(scenario, n, c)]
            wall = [r["wall_s"] for r in g]
            shell = groups.get((scenario, n, base))
            ratio = (f"{statistics.median(wall) / statistics.median([r['wall_s'] for r in shell]):.2f}"
                     if shell else "")
            procs = sorted({r["lvm_procs"] for r in g})
            procs_s = str(procs[0]) if len(procs) == 1 else f"{procs[0]}-{procs[-1]}"
            note = ""
            if "setup_s" in g[0]:
                note = f" (+{statistics.median([r['setup_s'] for r in g]):.1f} s set-up)"
            if "passes" in g[0]:
                note = f" ({statistics.median([r['passes'] for r in g]):g} passes)"
            if "confirmed_s" in g[0]:
                note += f" (confirmed by a read at {statistics.median([r['confirmed_s'] for r in g]):.2f} s)"
            if "edits" in g[0]:
                note = f" ({g[0]['edits']} edits)"
            if "exported_s" in g[0]:
                note += f" (exported, as its pass reports, at {statistics.median([r['exported_s'] for r in g]):.2f} s)"
            if "procs" in g[0]:
                note += (f" ({statistics.median([r['procs'] for r in g]):g} processes"
                         f"{', %g targetcli' % statistics.median([r['targetcli'] for r in g]) if g[0]['targetcli'] else ''})")
            if "started" in g[0]:
                note += (f" ({g[0]['exported']} exported; processes the daemon started: "
                         f"{max(r['started'] for r in g)}; in the whole guest: "
                         f"{max(len(r['guest_execs']) for r in g)})")
            print(f"| {n} | {c}{note} | {fmt_s(wall)} | {ratio} | "
                  f"{fmt_s([r['cpu_s'] for r in g])} | {procs_s} | {len(g)} |")
        print()
    if rss:
        print("**Daemon memory, 2 backends**")
        print()
        print("| N volumes | when | supervisor KiB | workers KiB | VmRSS total KiB | own (RssAnon) KiB | Pss total KiB |")
        print("|---:|---|---:|---|---:|---|---:|")
        for r in rss:
            anon = ", ".join(map(str, r["anon_kib"])) if "anon_kib" in r else ""
            print(f"| {r['n']} | {r['when']} | {r['supervisor_kib']} | "
                  f"{', '.join(map(str, r['workers_kib']))} | {r['total_kib']} | {anon} | {r.get('pss_total_kib', '')} |")
        print()
        print("VmRSS counts the pages of the binary and libc, which the three processes share, once per "
              "process; Pss shares them out, so its total is what the daemon occupies.")
        print()
    for r in shells:
        if r["pss_kib"]:
            print(f"The workers' kept lvm shells at {r['n']} volumes: Pss {', '.join(map(str, r['pss_kib']))} KiB "
                  "(lvm's memory, beside the daemon's own).")
        else:
            print(f"The workers' lvm shells at {r['n']} volumes: none running after the edits "
                  "(closed 5 s after a worker's last pass).")
        print()
    if a.plot:
        import plot
        with open(a.plot, "w") as f:
            f.write(plot.svg(groups, [("steady", "A pass with nothing to do"),
                                      ("edit+1", "One more volume (an edit, a command)")]))


def floor(rows):
    """bench/floor.py's rows: seconds per volume by variant, against plain lvcreate."""
    base = statistics.median(r["per_volume_s"] for r in rows
                             if r["variant"].startswith("lvcreate") and "failed" not in r)
    print("| one thin volume by | s per volume, median (min-max) | x lvcreate |")
    print("|---|---|---:|")
    for v in dict.fromkeys(r["variant"] for r in rows):
        bad = [r for r in rows if r["variant"] == v and "failed" in r]
        if bad:
            print(f"| {v} | failed: {bad[0]['error']} | |")
            continue
        xs = [r["per_volume_s"] for r in rows if r["variant"] == v]
        print(f"| {v} | {fmt_s(xs)} | {statistics.median(xs) / base:.2f} |")


def read_cost(rows):
    """bench/readcost.py's rows: one read of the VG by variant, per number of volumes."""
    print("| N volumes | read | wall ms, median (p10-p90) | CPU ms, median | x names only | runs |")
    print("|---:|---|---|---:|---:|---:|")
    for n in sorted({r["n"] for r in rows}):
        at = [r for r in rows if r["n"] == n]
        base = statistics.median(r["wall_s"] for r in at if r["variant"].startswith("lvs names"))
        order = ["usage per LV", "pool usage only", "no usage,", "no usage", "lvs, the same", "ember apply",
                 "names only"]
        for v in sorted(dict.fromkeys(r["variant"] for r in at),
                        key=lambda v: next((i for i, w in enumerate(order) if w in v), 99)):
            w = sorted(r["wall_s"] * 1000 for r in at if r["variant"] == v)
            cpu = statistics.median(r["cpu_s"] * 1000 for r in at if r["variant"] == v)
            print(f"| {n} | {v} | {statistics.median(w):.0f} ({w[len(w) // 10]:.0f}-{w[len(w) * 9 // 10]:.0f}) "
                  f"| {cpu:.0f} | {statistics.median(w) / 1000 / base:.2f} | {len(w)} |")


if __name__ == "__main__":
    main()
