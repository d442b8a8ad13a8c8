#!/usr/bin/env python3
"""Renders bench/results/latest.json (from broker_bench) as the Markdown table in bench/results/latest.md."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent
report = json.loads((root / "results/latest.json").read_text())
loopback = report["loopback_MBps"]
lines = [
    "| record | acks | partitions | Fjord produce rec/s (MB/s) | mock produce rec/s (MB/s) | Fjord / mock | "
    "Fjord produce p50 / p99 / p99.9 ms at max rate | Fjord consume rec/s (MB/s) | share of loopback |",
    "|---|---|---|---|---|---|---|---|---|",
]
for row in report["workloads"]:
    f, m = row["fjord"], row["mock"]
    lines.append(
        f"| {row['record_bytes']} B | {row['acks']} | {row['partitions']} "
        f"| {f['produce_records_per_s']:,.0f} ({f['produce_MBps']:.0f}) "
        f"| {m['produce_records_per_s']:,.0f} ({m['produce_MBps']:.0f}) "
        f"| {row['produce_ratio']:.2f} "
        f"| {f['produce_p50_ms']:.1f} / {f['produce_p99_ms']:.1f} / {f['produce_p999_ms']:.1f} "
        f"| {f['consume_records_per_s']:,.0f} ({f['consume_MBps']:.0f}) "
        f"| {f['consume_MBps'] / loopback:.2f} |")
pf, pm = report["paced_latency"]["fjord"], report["paced_latency"]["mock"]
lines += [
    "",
    f"Produce latency at a steady 5,000 records/s (1 KiB, acks=all, 1 partition): Fjord p50 {pf['p50_ms']:.2f} / "
    f"p99 {pf['p99_ms']:.2f} / p99.9 {pf['p999_ms']:.2f} ms; mock p50 {pm['p50_ms']:.2f} / p99 {pm['p99_ms']:.2f} / "
    f"p99.9 {pm['p999_ms']:.2f} ms.",
    f"Startup to the first answered request: {report['startup_ms_median']:.1f} ms (median of 5). "
    f"Idle resident memory with 8 partitions: {report['idle_rss_MB']:.1f} MB.",
    f"This machine: {report['cores']} cores; loopback {loopback:,.0f} MB/s; disk {report['disk_fsync_1MiB_MBps']:.0f} "
    f"MB/s writing 1 MiB per fdatasync, 4 KiB write + fdatasync p50 {report['disk_fsync_4KiB_p50_ms']:.2f} ms. "
    f"Client: librdkafka {report['librdkafka']}. Each figure is the median of {report['repeat']} runs.",
    "",
    "Fjord acknowledges only after fsync; the mock keeps records in memory. The mock's consumer numbers are not "
    "shown: librdkafka 2.0.2's mock answers each fetch with very little data (a few thousand records/s), so "
    "consumption is compared with the machine's loopback bandwidth instead.",
]
(root / "results/latest.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
