#!/usr/bin/env python3
"""Stack use of the firmware, measured on QEMU through its gdbstub.

Usage: stack.py STACK_TOP FINISH_ADDR PAINT_BYTES [NAME=FUNC_ADDR...] -- QEMU-COMMAND...

Starts QEMU halted (-S) with a gdbstub on a Unix socket and paints the
PAINT_BYTES below STACK_TOP with a pattern; the lowest word that no longer
holds it when the firmware reaches FINISH_ADDR (its `finish`, after the
whole script) is the stack's high-water mark.

For each NAME=FUNC_ADDR (say the entry of `Lock::check`), it also measures
every call of that function on its own: at each entry it notes the stack
pointer, repaints the region below it, runs to the return address and
reads the region back (calls nested in a measured call are part of it).
Before repainting, the region is read, so the whole-run peak stays exact.

Prints `peak N` (bytes), then `call NAME N M` per function: the deepest of
its M calls used N bytes below the caller's stack pointer. The firmware itself stays free of `unsafe`: it never reads raw
memory; the host does, over the GDB remote serial protocol (packets `M`,
`m`, `g`, `Z0`, `z0`, `c`, `k`). Exits non-zero on any error; run.sh then
reports the stack as not measured.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

PATTERN = bytes.fromhex("a55aa55a")
CHUNK = 1024
# Bytes below the stack pointer repainted for each measured call.
CALL_WINDOW = 16 * 1024


class Rsp:
    """A minimal GDB remote serial protocol client (acknowledged mode)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _byte(self):
        while not self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("gdbstub closed the connection")
            self.buf += data
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def send(self, payload):
        data = payload.encode()
        frame = b"$" + data + b"#" + b"%02x" % (sum(data) & 0xFF)
        for _ in range(3):
            self.sock.sendall(frame)
            ack = self._byte()
            while ack not in (b"+", b"-"):
                ack = self._byte()
            if ack == b"+":
                return
        raise IOError("packet not acknowledged: " + payload[:20])

    def recv(self):
        while True:
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start) if start >= 0 else -1
            if end >= 0 and len(self.buf) >= end + 3:
                # The two checksum digits are not verified: Unix sockets
                # do not corrupt.
                data = self.buf[start + 1 : end]
                self.buf = self.buf[end + 3 :]
                self.sock.sendall(b"+")
                return data.decode()
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("gdbstub closed the connection")
            self.buf += data

    def ask(self, payload):
        self.send(payload)
        return self.recv()


def paint(rsp, lo, hi):
    for addr in range(lo, hi, CHUNK):
        n = min(CHUNK, hi - addr)
        data = (PATTERN * (n // 4 + 1))[:n]
        reply = rsp.ask(f"M{addr:x},{n:x}:{data.hex()}")
        if reply != "OK":
            sys.exit(f"writing memory at {addr:#x}: {reply}")


def lowest_touched(rsp, lo, hi):
    """The lowest address in [lo, hi) whose word lost the pattern (hi if none)."""
    for addr in range(lo, hi, CHUNK):
        n = min(CHUNK, hi - addr)
        reply = rsp.ask(f"m{addr:x},{n:x}")
        if reply.startswith("E") or len(reply) != 2 * n:
            sys.exit(f"reading memory at {addr:#x}: {reply[:20]}")
        data = bytes.fromhex(reply)
        if data == (PATTERN * (n // 4 + 1))[:n]:
            continue
        for off in range(0, n, 4):
            if data[off : off + 4] != PATTERN:
                return addr + off
    return hi


def register(rsp, n):
    """Core register `n` (13: SP, 14: LR, 15: PC), from a `g` packet."""
    reply = rsp.ask("g")
    word = reply[8 * n : 8 * n + 8]
    if len(word) != 8:
        sys.exit(f"reading register {n}: {reply[:20]!r}")
    return int.from_bytes(bytes.fromhex(word), "little")


def breakpoint(rsp, op, addr):
    reply = rsp.ask(f"{op},{addr & ~1:x},2")
    if reply != "OK":
        sys.exit(f"breakpoint {op} at {addr:#x}: {reply!r}")


def cont(rsp):
    stop = rsp.ask("c")
    if not stop.startswith(("S05", "T05")):
        sys.exit(f"the firmware did not stop at a breakpoint: {stop!r}")
    return register(rsp, 15) & ~1


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    sep = sys.argv.index("--")
    stack_top, finish, painted = (int(a, 0) for a in sys.argv[1:4])
    funcs = {}  # entry address -> name
    for arg in sys.argv[4:sep]:
        name, addr = arg.split("=")
        funcs[int(addr, 0) & ~1] = name
    qemu = sys.argv[sep + 1 :]
    bottom = stack_top - painted
    deepest = {name: 0 for name in funcs.values()}
    calls = {name: 0 for name in funcs.values()}

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gdb.sock")
        proc = subprocess.Popen(
            qemu + ["-S", "-gdb", f"unix:{path},server=on,wait=off"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            deadline = time.monotonic() + 20
            while True:
                try:
                    sock.connect(path)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                        sys.exit("qemu gdbstub did not come up: " + err.strip())
                    time.sleep(0.05)
            sock.settimeout(300)
            rsp = Rsp(sock)

            paint(rsp, bottom, stack_top)
            lowest = stack_top
            breakpoint(rsp, "Z0", finish)
            for func in funcs:
                breakpoint(rsp, "Z0", func)
            while True:
                pc = cont(rsp)
                if pc == finish & ~1:
                    break
                name = funcs.get(pc)
                if name is None:
                    sys.exit(f"stopped at an unexpected address {pc:#x}")
                # Entry of a measured function: SP and return address.
                sp, lr = register(rsp, 13), register(rsp, 14)
                window = max(bottom, sp - CALL_WINDOW)
                lowest = min(lowest, lowest_touched(rsp, bottom, sp))
                paint(rsp, window, sp)
                for func in funcs:
                    breakpoint(rsp, "z0", func)
                breakpoint(rsp, "Z0", lr)
                if cont(rsp) != lr & ~1:
                    sys.exit(f"{name} did not return to its caller")
                breakpoint(rsp, "z0", lr)
                for func in funcs:
                    breakpoint(rsp, "Z0", func)
                low = lowest_touched(rsp, window, sp)
                if low == window:
                    sys.exit(f"a call of {name} used the whole {CALL_WINDOW}-byte window")
                deepest[name] = max(deepest[name], sp - low)
                calls[name] += 1
            lowest = min(lowest, lowest_touched(rsp, bottom, stack_top))
            try:
                rsp.send("k")
            except (OSError, EOFError):
                pass
        finally:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    if lowest == stack_top:
        sys.exit("the painted region was not touched")
    print(f"peak {stack_top - lowest}{'+' if lowest == bottom else ''}")
    for name in funcs.values():
        print(f"call {name} {deepest[name]} {calls[name]}")


if __name__ == "__main__":
    main()
