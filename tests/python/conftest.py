"""Starts a real `fjord broker` on loopback for each test module (FJORD_BINARY names the executable)."""
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest


def _load_ports_module():
    spec = importlib.util.spec_from_file_location(
        "fjord_test_ports", os.path.join(os.path.dirname(__file__), "..", "support", "ports.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


free_port = _load_ports_module().reserve_port


class Broker:
    def __init__(self, extra_args=()):
        self.extra_args = list(extra_args)
        self.data_dir = tempfile.mkdtemp(prefix="fjord-py-")
        self.port = free_port()
        self.admin_port = free_port()
        self.process = None

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        binary = os.environ["FJORD_BINARY"]
        self.log = open(self.data_dir + ".log", "ab")
        self.process = subprocess.Popen(
            [binary, "broker", "--data-dir", self.data_dir, "--listen", self.bootstrap,
             "--admin-listen", f"127.0.0.1:{self.admin_port}"] + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("broker exited at start")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("broker did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            return self.process.wait(timeout=30)
        return None

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def cleanup(self):
        self.kill()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        os.remove(self.data_dir + ".log")


@pytest.fixture(scope="module")
def broker():
    b = Broker()
    b.start()
    yield b
    b.cleanup()
