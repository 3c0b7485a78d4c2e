#!/usr/bin/env python3
"""Counts pf_stub test results from guest console logs.

KUnit's KTAP (between PFSTUB-KTAP-BEGIN/END) is handed to the kernel's own parser,
tools/testing/kunit/kunit.py parse --json; the guest scenarios print TAP-style
`ok N name` / `not ok N name` lines between PFSTUB-SCENARIOS-BEGIN/END. Every case
of every log counts once.

usage: results.py KUNIT_PY LABEL=LOG... [extra:NAME=0|1 ...]   (0 = passed)
       results.py --scan LOG   (kernel reports only)
Lines `PFSTUB-CASE NAME ok|fail|skip` inside a scenario's output are the cases of a
third-party suite it ran (the kernel's VFIO selftests); each counts once too.
Prints one line per failed case and, last, `N passed, N failed`.
Exit status 0 only when nothing failed and at least one case ran.
"""
import json
import re
import subprocess
import sys


# A kernel report is a console line matching REPORT and the lines after it up to the end of its
# stack trace (`</TASK>`, `---[ end trace`) or 80 lines. Reports of the kernel itself that pf_stub's tests trigger but do not cause
# are KNOWN: each entry lists patterns that must all match the report, and pf_stub must not
# appear in it. A known report is listed but does not fail the run.
REPORT = re.compile(r"Kernel panic|BUG:|WARNING:|Oops|KASAN|UBSAN|possible .*deadlock|"
                    r"INFO: task .* blocked|unreferenced object 0x")
KNOWN = [
    # Linux 7.2 pciehp: pciehp_unconfigure_device() takes ctrl->reset_lock under
    # pci_rescan_remove_lock, the reverse of pciehp_ist(); lockdep reports it on the first
    # hot-unplug of any device. Lockdep then turns itself off, so surprise removal runs last.
    ("pciehp lock order (upstream)",
     [r"possible circular locking dependency", r"pciehp_unconfigure_device", r"reset_lock"]),
]
# The same upstream cycle, found by lockdep through a PF driver's sriov_configure: the core holds
# pci_rescan_remove_lock around it, enabling VFs takes pci_slot_mutex (pci_dev_assign_slot()),
# AER's slot reset takes reset_lock under pci_slot_mutex, and pciehp_ist() wants
# pci_rescan_remove_lock under reset_lock. pf_stub's own frames (its policy lock, held around
# pci_enable_sriov() like any driver's state) appear in it only as a link of that chain; seen on
# the debug kernel with pci-errors.sh then surprise-removal.sh alone.
KNOWN_THROUGH_SRIOV_CONFIGURE = [
    ("pciehp lock order through sriov_configure (upstream)",
     [r"possible circular locking dependency", r"pciehp_unconfigure_device", r"reset_lock",
      r"pci_slot_mutex", r"sriov_enable", r"sriov_numvfs_store"]),
]


# A guest script's own shell error (a missing busybox applet, bad arithmetic) can end a worker
# or a check early and let the scenario pass without testing anything: it fails the run too.
SCRIPT_ERROR = re.compile(r"^\s*/init: /scenarios/\S+: line \d+: .*(not found|syntax error|bad substitution)")


def script_errors(text):
    """Returns the console lines where a guest test script hit a shell error."""
    return [l.strip() for l in text.splitlines() if SCRIPT_ERROR.search(l)]


def kernel_reports(text):
    """Returns (unknown, known) kernel reports of a console log, each a list of blocks."""
    lines = text.splitlines()
    starts = [i for i, l in enumerate(lines) if REPORT.search(l)]
    unknown, known = [], []
    i = 0
    while i < len(starts):
        start = starts[i]
        end = min(start + 80, len(lines))
        for j in range(start + 1, end):
            if "</TASK>" in lines[j] or "---[ end trace" in lines[j]:
                end = j + 1
                break
        block = "\n".join(lines[start:end])
        name = None
        if "pf_stub" not in block:
            for kname, pats in KNOWN:
                if all(re.search(p, block) for p in pats):
                    name = kname
        for kname, pats in KNOWN_THROUGH_SRIOV_CONFIGURE:
            if name is None and all(re.search(p, block) for p in pats):
                name = kname
        (known if name else unknown).append(name or block)
        # Lines inside this block are part of it, not new reports.
        while i < len(starts) and starts[i] < end:
            i += 1
    return unknown, known


def section(text, begin, end):
    m = re.search(re.escape(begin) + r"\n(.*?)\n" + re.escape(end), text, re.S)
    return m.group(1) if m else None


def kunit_cases(kunit_py, ktap):
    """Returns (name, passed) for each KUnit case, via kunit.py parse --json."""
    proc = subprocess.run([sys.executable, kunit_py, "parse", "--json"],
                          input=ktap, capture_output=True, text=True)
    out = proc.stdout
    start = out.find("{")
    if start < 0:
        return [("kunit-parse", False)]
    data = json.loads(out[start:])
    cases = []
    for suite in data.get("sub_groups", []):
        for case in suite.get("test_cases", []):
            cases.append((suite["name"] + "." + case["name"], case["status"] == "PASS"))
    return cases or [("kunit-no-cases", False)]


# A third-party suite run inside a scenario (the kernel's VFIO selftests) reports each of its
# cases on a line of its own, `PFSTUB-CASE NAME ok|fail|skip`; each counts as a test case.
CASE = re.compile(r"^\s*PFSTUB-CASE (\S+) (ok|fail|skip)\s*$")


def scenario_cases(block):
    cases = []
    plan = None
    for line in block.splitlines():
        m = CASE.match(line)
        if m:
            cases.append(("suite." + m.group(1), {"ok": True, "fail": False}.get(m.group(2))))
            continue
        m = re.match(r"^1\.\.(\d+)$", line)
        if m:
            plan = int(m.group(1))
        m = re.match(r"^(not ok|ok) \d+ (\S+)(.*)$", line)
        if m:
            if m.group(1) == "ok" and "# SKIP" in m.group(3):
                cases.append((m.group(2), None))
            else:
                cases.append((m.group(2), m.group(1) == "ok"))
    ran = sum(1 for n, _ in cases if not n.startswith("suite."))
    if plan is not None and plan != ran:
        cases.append(("plan-%d-ran-%d" % (plan, ran), False))
    return cases


def main():
    if sys.argv[1] == "--scan":
        text = open(sys.argv[2], errors="replace").read()
        unknown, known = kernel_reports(text)
        for k in known:
            print("known kernel report (not pf_stub's): " + k)
        for b in unknown:
            print("kernel report:\n" + b[:3000])
        errors = script_errors(text)
        for e in errors:
            print("test script error: " + e)
        return 1 if unknown or errors else 0
    kunit_py = sys.argv[1]
    results = []
    for arg in sys.argv[2:]:
        label, _, rest = arg.partition("=")
        if arg.startswith("extra:"):
            name, _, val = arg[6:].partition("=")
            results.append((name, val == "0"))
            continue
        try:
            text = open(rest, errors="replace").read().replace("\r", "")
        except OSError:
            results.append((label + ".log-missing", False))
            continue
        ktap = section(text, "PFSTUB-KTAP-BEGIN", "PFSTUB-KTAP-END")
        if ktap is not None:
            results += [(label + ".kunit." + n, ok) for n, ok in kunit_cases(kunit_py, ktap)]
        block = section(text, "PFSTUB-SCENARIOS-BEGIN", "PFSTUB-SCENARIOS-END")
        hung = [l for l in text.splitlines() if l.startswith("PFSTUB-HUNG")]
        if hung:
            # The guest's scenario watchdog: the stuck scenario's tasks and kernel log, here at
            # the end of the output, where a CI log's tail shows them.
            print("%s: a scenario hung:\n  %s" % (label, "\n  ".join(hung[:150])))
        if block is None:
            running = re.findall(r"^PFSTUB-RUNNING (\S+)", text, re.M)
            print("%s: the guest did not finish; scenario running last: %s; console's last lines:\n  %s"
                  % (label, running[-1] if running else "none",
                     "\n  ".join(text.rstrip().splitlines()[-25:])))
            results.append((label + ".guest-did-not-finish", False))
        else:
            results += [(label + "." + n, ok) for n, ok in scenario_cases(block)]
        if not re.search(r"^PFSTUB-DONE rc=\d+", text, re.M):
            results.append((label + ".guest-no-clean-shutdown", False))
        unknown, known = kernel_reports(text)
        for k in known:
            print("known kernel report (not pf_stub's): %s in %s" % (k, label))
        if unknown:
            results.append((label + ".kernel-report", False))
        errors = script_errors(text)
        for e in errors:
            print("test script error in %s: %s" % (label, e))
        if errors:
            results.append((label + ".test-script-error", False))
    passed = sum(1 for _, ok in results if ok)
    skipped = sum(1 for _, ok in results if ok is None)
    failed = [n for n, ok in results if ok is False]
    for n in failed:
        print("FAILED: " + n)
    print("%d passed, %d failed, %d skipped" % (passed, len(failed), skipped))
    return 0 if not failed and passed else 1


if __name__ == "__main__":
    sys.exit(main())
