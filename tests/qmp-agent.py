#!/usr/bin/env python3
"""Host side of guest-driven hotplug: follows the guest console and carries out its requests on
the QEMU monitor (QMP), so that a guest scenario can remove and re-add a device itself.

usage: qmp-agent.py QMP_SOCKET CONSOLE_LOG
A console line `PFSTUB-HOST device_del ID` or `PFSTUB-HOST device_add DRIVER key=value...` is
sent as the QMP command of that name, and `PFSTUB-HOST hmp COMMAND...` as a human monitor
command (`human-monitor-command`, e.g. `pcie_aer_inject_error`); the result is printed to stderr. Exits when QEMU closes
the socket.
"""
import json
import socket
import sys
import time


def connect(path):
    for _ in range(300):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        except OSError:
            time.sleep(0.1)
    sys.exit("qmp-agent: no QMP socket at " + path)


def main():
    sock_path, log_path = sys.argv[1], sys.argv[2]
    s = connect(sock_path)
    f = s.makefile("rw")
    f.readline()  # greeting
    f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
    f.flush()
    f.readline()
    with open(log_path, errors="replace") as log:
        while True:
            line = log.readline()
            if not line:
                time.sleep(0.1)
                try:
                    s.send(b"")
                except OSError:
                    return
                continue
            line = line.strip()
            if not line.startswith("PFSTUB-HOST "):
                continue
            words = line.split()[1:]
            if words[0] == "device_del" and len(words) == 2:
                cmd = {"execute": "device_del", "arguments": {"id": words[1]}}
            elif words[0] == "hmp" and len(words) >= 2:
                cmd = {"execute": "human-monitor-command",
                       "arguments": {"command-line": " ".join(words[1:])}}
            elif words[0] == "device_add" and len(words) >= 2:
                args = {"driver": words[1]}
                args.update(dict(w.split("=", 1) for w in words[2:]))
                cmd = {"execute": "device_add", "arguments": args}
            else:
                print("qmp-agent: ignoring " + line, file=sys.stderr)
                continue
            # QEMU deletes an unplugged device only once the guest has powered its slot off:
            # until then its ID is taken, so a device_add right after is retried for a while.
            for _ in range(120):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:  # skip asynchronous events until the command's answer
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
                if "Duplicate device ID" not in json.dumps(reply):
                    break
                time.sleep(0.5)
            print("qmp-agent: %s -> %s" % (line, json.dumps(reply)), file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError):
        pass
