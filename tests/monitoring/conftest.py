"""The broker fixture of the Python client tests (tests/python/conftest.py), for the monitoring tests."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "fjord_python_conftest", os.path.join(os.path.dirname(__file__), "..", "python", "conftest.py"))
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

Broker = _module.Broker
free_port = _module.free_port
