#!/usr/bin/env python3
"""Turns the guest's BENCH lines into a Markdown table.

usage: table.py icount|realtime CONSOLE_LOG C_KO RUST_KO
For every metric: median and min-max per driver (C pci-pf-stub, pf_stub as loaded by default,
pf_stub with policy=simple vf_autoprobe=1), and the ratio pf_stub / C of the medians.
"""
import collections
import datetime
import platform
import re
import statistics
import subprocess
import sys

ALL_DRIVERS = ["c", "rust", "rust-simple", "native"]
HEAD = {"c": "C pci-pf-stub", "rust": "pf_stub (default)", "rust-simple": "pf_stub (simple)",
        "native": "native PF driver"}
# The ratios: pf_stub against the C driver, and (virtio: tests/bench/guest-bench-virtio.sh)
# against the device's native PF driver.
RATIOS = [("rust", "c", "default / C"), ("rust-simple", "c", "simple / C"),
          ("rust", "native", "default / native"), ("rust-simple", "native", "simple / native")]


def fmt(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.1f us" % (ns / 1e3)
    return "%d ns" % ns


def size(ko):
    out = subprocess.run(["size", ko], capture_output=True, text=True, check=True).stdout
    text, data, bss = out.splitlines()[1].split()[:3]
    return int(text), int(data), int(bss)


def sweep_points(order, kind):
    """(metric, VF count) of every nvme enable or disable measurement with a known count."""
    for metric in order:
        m = re.fullmatch(r"(?:sweep_)?%s_nvme_(\d+)" % kind, metric)
        if m:
            yield metric, int(m.group(1))


def linear_fit(pts):
    """Least-squares line through (count, ns): fixed cost, cost per VF, R^2, largest residual."""
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    b = sum((x - mx) * (y - my) for x, y in pts) / sxx
    a = my - b * mx
    res = [y - (a + b * x) for x, y in pts]
    syy = sum((y - my) ** 2 for _, y in pts)
    r2 = 1 - sum(r * r for r in res) / syy if syy else 1.0
    return a, b, r2, max(abs(r) for r in res)


def main():
    clock, log, cko, rko = sys.argv[1:5]
    text = open(log, errors="replace").read()
    data = collections.defaultdict(lambda: collections.defaultdict(list))
    order = []
    for m in re.finditer(r"^\s*BENCH (\S+) (\S+) (\d+)$", text, re.M):
        metric, drv, ns = m.group(1), m.group(2), int(m.group(3))
        if metric not in order:
            order.append(metric)
        data[metric][drv].append(ns)
    present = {d for v in data.values() for d in v}
    drivers = [d for d in ALL_DRIVERS if d in present]
    ratios_shown = [r for r in RATIOS if r[0] in present and r[1] in present]
    rounds = max((len(v) for d in data.values() for v in d.values()), default=0)
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cores = len(open("/proc/cpuinfo").read().split("processor")) - 1
    how = {"icount": "guest clock = QEMU -icount shift=0: 1 ns per guest instruction, waits warped",
           "realtime": "guest clock = host time"}[clock]
    print("pf_stub benchmark, %s, %s, %d cores, guest under QEMU TCG (q35), %s, up to %d rounds"
          % (datetime.date.today().isoformat(), cpu, cores, how, rounds))
    print()
    print("| metric | n | " + " | ".join(HEAD[d] + " median (min-max)" for d in drivers)
          + " | " + " | ".join(r[2] for r in ratios_shown) + " |")
    print("|---|---|" + "---|" * (len(drivers) + len(ratios_shown)))
    for metric in order:
        cells = []
        med = {}
        n = 0
        for d in drivers:
            v = data[metric].get(d)
            if not v:
                cells.append("-")
                continue
            n = max(n, len(v))
            med[d] = statistics.median(v)
            cells.append("%s (%s-%s)" % (fmt(med[d]), fmt(min(v)), fmt(max(v))))
        ratios = []
        for d, base, _ in ratios_shown:
            ratios.append("%.3f" % (med[d] / med[base]) if base in med and d in med else "-")
        print("| %s | %d | %s | %s |" % (metric, n, " | ".join(cells), " | ".join(ratios)))
    fits = []
    for kind in ("enable", "disable"):
        for d in drivers:
            pts = [(n, statistics.median(data[metric][d]))
                   for metric, n in sweep_points(order, kind) if data[metric].get(d)]
            if len(pts) >= 3:
                fits.append((kind, d) + linear_fit(pts))
    if fits:
        print()
        print("Cost against the VF count on nvme (sweep medians and the 64-VF figure), least squares:")
        print()
        print("| operation | driver | fixed | per VF | R^2 | largest residual |")
        print("|---|---|---|---|---|---|")
        for kind, d, a, b, r2, worst in fits:
            print("| %s | %s | %s | %s | %.4f | %s |" % (kind, HEAD[d], fmt(a), fmt(b), r2, fmt(worst)))
    print()
    ct, cd, cb = size(cko)
    rt, rd, rb = size(rko)
    print("| module | text | data | bss |")
    print("|---|---|---|---|")
    print("| pci-pf-stub.ko | %d | %d | %d |" % (ct, cd, cb))
    print("| pf_stub.ko | %d | %d | %d |" % (rt, rd, rb))
    m = re.search(r"pf_stub footprint: (.*)", text)
    if m:
        print()
        print("Allocations: " + m.group(1).strip())


if __name__ == "__main__":
    main()
