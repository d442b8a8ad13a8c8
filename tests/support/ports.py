#!/usr/bin/env python3
"""Loopback ports for tests that run side by side.

A port found by binding to port 0 is an ephemeral one: once released, the kernel may hand it to any outgoing
connection, and a parallel test may find it too, so a broker started on it a moment later can fail to listen.
Ports here come from below the ephemeral range instead, and each is reserved for the process that asked for it by
a file under $TMPDIR/fjord-test-ports holding that process's id; a reservation whose process is gone is taken over.
tests/support/broker_process.cc follows the same rules, so C++, Python and shell tests never share a port.

Command line: ports.py [--owner PID] [COUNT] prints COUNT reserved ports, one per line (a shell passes --owner $$).
"""
import errno
import os
import random
import socket
import sys
import tempfile

DIRECTORY = os.path.join(tempfile.gettempdir(), "fjord-test-ports")


def _candidate_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    return max(1024, ephemeral_low - 16000), ephemeral_low


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim(path, owner):
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            with open(path) as f:
                holder = int(f.read().strip() or "0")
        except (OSError, ValueError):
            return False
        if holder > 0 and _alive(holder):
            return False
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return _claim_fresh(path, owner)
    os.write(fd, str(owner).encode())
    os.close(fd)
    return True


def _claim_fresh(path, owner):
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.write(fd, str(owner).encode())
    os.close(fd)
    return True


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise


def reserve_port(owner=None):
    owner = owner or os.getpid()
    os.makedirs(DIRECTORY, exist_ok=True)
    low, high = _candidate_range()
    for _ in range(10000):
        port = random.randrange(low, high)
        if _claim(os.path.join(DIRECTORY, str(port)), owner) and _bindable(port):
            return port
    raise RuntimeError(f"no free port reservable in [{low}, {high})")


if __name__ == "__main__":
    args = sys.argv[1:]
    owner = None
    if args[:1] == ["--owner"]:
        owner, args = int(args[1]), args[2:]
    for _ in range(int(args[0]) if args else 1):
        print(reserve_port(owner))
