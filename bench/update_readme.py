#!/usr/bin/env python3
"""Puts bench/results/latest.md into README.md between the bench markers."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
table = (root / "bench/results/latest.md").read_text().strip()
readme = root / "README.md"
text = readme.read_text()
text = re.sub(r"<!-- bench:begin -->.*<!-- bench:end -->",
              "<!-- bench:begin -->\n" + table.replace("\\", "\\\\") + "\n<!-- bench:end -->", text, flags=re.S)
readme.write_text(text)
