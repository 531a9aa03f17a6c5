#!/usr/bin/env python3
"""qmp.py SOCKET COMMAND_JSON...: sends each QMP command to qemu's monitor socket in order and
prints each one's "return" as one JSON line. Exits 1 on the first command qemu refuses (its
error on stderr), 2 when the socket cannot be used. Used by the Debian guest test for vCPU and
NIC hot-plug."""
import json
import socket
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(sys.argv[1])
    except OSError as e:
        print(f"qmp: cannot connect to {sys.argv[1]}: {e}", file=sys.stderr)
        return 2
    f = s.makefile("rw")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise OSError("qemu closed the monitor socket")
            msg = json.loads(line)
            if "event" in msg:  # asynchronous events are not answers
                continue
            return msg

    def send(cmd):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        return reply()

    try:
        reply()  # greeting
        send({"execute": "qmp_capabilities"})
        for arg in sys.argv[2:]:
            r = send(json.loads(arg))
            if "error" in r:
                print(f"qmp: {arg}: {r['error'].get('desc', r['error'])}", file=sys.stderr)
                return 1
            print(json.dumps(r.get("return")))
    except (OSError, ValueError) as e:
        print(f"qmp: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
