#!/usr/bin/env python3
"""Renders bench/results/latest.json (written by broker_bench) as Markdown tables (latest.md, which README
includes) and a chart (latest.png)."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent
report = json.loads((root / "results/latest.json").read_text())
machine = report["machine"]
loopback = machine["loopback_MBps"]
out = []


def fmt(v, digits=0):
    return f"{v:,.{digits}f}" if isinstance(v, (int, float)) else "n/a"


def ratio(a, b):
    if not b:
        return "n/a"
    r = a / b
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


if "compare" in report:
    c = report["compare"]
    brokers = ["fjord", "fjord-nosync", "kafka", "kafka-fsync", "mock"]
    startup = report.get("scale", {}).get("startup_ms", {})
    half = {row["workload"]: row for row in c["half_of_kafka_max"]}
    short_mb = next(r for r in c["max_rate"] if r["workload"] == "omb-1KiB-8p")["records"] * 1024 / 1e6
    out.append("### Fjord and Apache Kafka, same client, same run: short runs")
    out.append("")
    out.append(f"Every broker warmed up with 512 MB first; then runs of {short_mb:,.0f} MB (1 KiB records) after a "
               "quarter more of unmeasured warm-up, the brokers' runs interleaved, medians: a broker's first seconds "
               "under load. The sustained runs below show its steady state. OpenMessaging-style workload: one topic, "
               "8 partitions, 1 KiB records, acks=all. Throughput at the client's maximum rate; latency at half of "
               "Kafka's maximum rate.")
    out.append("")
    out.append("| broker | produce MB/s (rec/s) | produce p50 / p99 / p99.9 ms | end-to-end p50 / p99 ms | "
               "CPU s per GB | peak RSS MB | startup ms |")
    out.append("|---|---|---|---|---|---|---|")
    head = next(r for r in c["max_rate"] if r["workload"] == "omb-1KiB-8p" and r["acks"] == "all")
    for b in brokers:
        m = head[b]
        h = half["omb-1KiB-8p"][b]
        out.append(
            f"| {b} | {fmt(m['MBps'])} ({fmt(m['records_per_s'])}) | {fmt(h['p50_ms'], 1)} / {fmt(h['p99_ms'], 1)} / "
            f"{fmt(h['p999_ms'], 1)} | {fmt(h['e2e_p50_ms'], 1)} / {fmt(h['e2e_p99_ms'], 1)} | "
            f"{fmt(m.get('cpu_s_per_GB'), 2)} | {fmt(c.get('peak_rss_MB', {}).get(b), 0)} | "
            f"{fmt(startup.get(b.split('-')[0]) if b in ('fjord', 'kafka') else None, 1)} |")
    out.append("")
    out.append("Every workload at the maximum rate (records/s, and Fjord / Kafka at each one's default durability):")
    out.append("")
    out.append("| workload | acks | fjord | fjord-nosync | kafka | kafka-fsync | mock | fjord / kafka | "
               "fjord-nosync / kafka | consume fjord / kafka MB/s |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in c["max_rate"]:
        out.append(
            f"| {r['workload']} | {r['acks']} | " + " | ".join(fmt(r[b]['records_per_s']) for b in brokers) +
            f" | {ratio(r['fjord']['records_per_s'], r['kafka']['records_per_s'])} | "
            f"{ratio(r['fjord-nosync']['records_per_s'], r['kafka']['records_per_s'])} | "
            f"{fmt(r['fjord']['consume_MBps'])} / {fmt(r['kafka']['consume_MBps'])} |")
    out.append("")
    out.append("Produce p99 ms at half of Kafka's maximum rate, acks=all (and Fjord / Kafka):")
    out.append("")
    out.append("| workload | rate rec/s | fjord | fjord-nosync | kafka | kafka-fsync | mock | fjord / kafka |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in c["half_of_kafka_max"]:
        out.append(f"| {r['workload']} | {fmt(r['rate'])} | " + " | ".join(fmt(r[b]['p99_ms'], 1) for b in brokers) +
                   f" | {ratio(r['fjord']['p99_ms'], r['kafka']['p99_ms'])} |")
    out.append("")
    out.append("Brokers: " + "; ".join(f"**{k}**: {v}" for k, v in c["brokers"].items()) + ".")
    out.append("")
    if "loop_lag_ms" in c:
        lag = c["loop_lag_ms"]
        out.append("How late Fjord's event loop ran what was due, over all of these runs "
                   "(`fjord_event_loop_lag_seconds`, upper bounds of its buckets): " +
                   "; ".join(f"{b} p50 {fmt(lag[b]['0.500'], 2)} / p99 {fmt(lag[b]['0.990'], 2)} / "
                             f"p99.9 {fmt(lag[b]['0.999'], 2)} ms" for b in ("fjord", "fjord-nosync")) + ".")
        out.append("")

if "sustained" in report:
    su = report["sustained"]
    names = ["fjord", "fjord-nosync", "kafka"]
    first = su["runs"][0]
    out.append("### Sustained runs: 1 GB per run")
    out.append("")
    out.append(f"Every broker warmed up with 512 MB first; then {first['runs']} runs per workload and broker of "
               f"{first['records'] * first['record_bytes'] / 1e9:.1f} GB each, nothing unmeasured, the brokers' runs "
               "interleaved, medians (records/s). Page-cache writeback, segment rolls and garbage collection all "
               "happen inside these runs.")
    out.append("")
    out.append("| workload | acks | fjord | fjord-nosync | kafka | fjord / kafka (run by run) | "
               "fjord-nosync / kafka (run by run) | fjord fsyncs per produce request | consume fjord / kafka MB/s |")
    out.append("|---|---|---|---|---|---|---|---|---|")

    def spread(r, a, b):
        # The ratio of the medians, and the lowest and highest ratio of runs made one after the other.
        pairs = list(zip(r[a].get("runs_records_per_s", []), r[b].get("runs_records_per_s", [])))
        text = ratio(r[a]["records_per_s"], r[b]["records_per_s"])
        if pairs:
            each = [x / y for x, y in pairs if y]
            text += f" ({min(each):.2f}–{max(each):.2f})"
        return text

    for r in su["runs"]:
        out.append(
            f"| {r['workload']} | {r['acks']} | " + " | ".join(fmt(r[b]['records_per_s']) for b in names) +
            f" | {spread(r, 'fjord', 'kafka')} | {spread(r, 'fjord-nosync', 'kafka')} | "
            f"{fmt(r['fjord'].get('fsyncs_per_produce_request'), 2)} | "
            f"{fmt(r['fjord']['consume_MBps'])} / {fmt(r['kafka']['consume_MBps'])} |")
    out.append("")

if "scale" in report:
    s = report["scale"]
    out.append("### How cost grows")
    out.append("")
    out.append("| | fjord | kafka | fjord / kafka |")
    out.append("|---|---|---|---|")
    out.append(f"| startup to first answer, ms | {fmt(s['startup_ms']['fjord'], 1)} | {fmt(s['startup_ms']['kafka'], 1)} | "
               f"{ratio(s['startup_ms']['fjord'], s['startup_ms']['kafka'])} |")
    for n in ["8", "1000", "10000"]:
        f, k = s["partitions"]["fjord"][n], s["partitions"]["kafka"][n]
        fr, kr = f.get("produce", {}).get("records_per_s"), k.get("produce", {}).get("records_per_s")
        out.append(f"| {n} partitions: produce rec/s (1 KiB, acks=all) | {fmt(fr)} | {fmt(kr)} | "
                   f"{ratio(fr, kr) if fr and kr else 'n/a'} |")
        out.append(f"| {n} partitions: resident MB | {fmt(f.get('rss_MB'))} | {fmt(k.get('rss_MB'))} | "
                   f"{ratio(f['rss_MB'], k['rss_MB']) if 'rss_MB' in f and 'rss_MB' in k else 'n/a'} |")
        out.append(f"| {n} partitions: topic creation s | {fmt(f.get('create_s'), 2)} | {fmt(k.get('create_s'), 2)} | |")
        for broker, r in (("fjord", f), ("kafka", k)):
            if "error" in r:
                out.append(f"| {n} partitions: {broker} failed | {r['error']} | | |")
    fi, ki = s["idle_connections"]["fjord"], s["idle_connections"]["kafka"]
    out.append(f"| {fi['connections']:,} idle connections: resident MB | {fmt(fi['rss_MB'])} | {fmt(ki['rss_MB'])} | "
               f"{ratio(fi['rss_MB'], ki['rss_MB'])} |")
    for size in ["1GB", "10GB"]:
        f, k = s["restart"]["fjord"][size], s["restart"]["kafka"][size]
        out.append(f"| restart with {size} of log, clean stop: ms to serving | {fmt(f['clean_ms'])} | {fmt(k['clean_ms'])} | "
                   f"{ratio(f['clean_ms'], k['clean_ms'])} |")
        out.append(f"| restart with {size} of log, after kill -9: ms to serving | {fmt(f['after_kill_ms'])} | "
                   f"{fmt(k['after_kill_ms'])} | {ratio(f['after_kill_ms'], k['after_kill_ms'])} |")
    out.append("")

if "foundation" in report:
    f = report["foundation"]
    out.append("### Fjord against librdkafka's in-memory mock cluster")
    out.append("")
    out.append("| record | acks | partitions | Fjord produce rec/s (MB/s) | mock produce rec/s (MB/s) | Fjord / mock | "
               "Fjord consume MB/s | share of loopback |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in f["workloads"]:
        a, m = r["fjord"], r["mock"]
        out.append(f"| {r['record_bytes']} B | {r['acks']} | {r['partitions']} | {fmt(a['records_per_s'])} ({fmt(a['MBps'])}) | "
                   f"{fmt(m['records_per_s'])} ({fmt(m['MBps'])}) | {ratio(a['records_per_s'], m['records_per_s'])} | "
                   f"{fmt(a['consume_MBps'])} | {a['consume_MBps'] / loopback:.2f} |")
    pf, pm = f["paced_5000"]["fjord"], f["paced_5000"]["mock"]
    out.append("")
    out.append(f"At a steady 5,000 records/s (1 KiB, acks=all, 1 partition): Fjord produce p50 {pf['p50_ms']:.2f} / "
               f"p99 {pf['p99_ms']:.2f} / p99.9 {pf['p999_ms']:.2f} ms; mock {pm['p50_ms']:.2f} / {pm['p99_ms']:.2f} / "
               f"{pm['p999_ms']:.2f} ms. The mock's consume numbers are not shown: librdkafka {machine['librdkafka']}'s "
               "mock serves only a few thousand records/s per partition.")
    out.append("")

if "idempotence" in report:
    out.append("### What idempotent producing costs")
    out.append("")
    out.append("The same librdkafka producer against Fjord with `enable.idempotence` off and on (acks=all, maximum rate, "
               "runs interleaved):")
    out.append("")
    out.append("| workload | plain rec/s | idempotent rec/s | idempotent / plain | plain p99 ms | idempotent p99 ms |")
    out.append("|---|---|---|---|---|---|")
    for r in report["idempotence"]["workloads"]:
        p, i = r["plain"], r["idempotent"]
        out.append(f"| {r['workload']} | {fmt(p['records_per_s'])} | {fmt(i['records_per_s'])} | {r['ratio']:.2f} | "
                   f"{fmt(p['p99_ms'], 1)} | {fmt(i['p99_ms'], 1)} |")
    out.append("")

if "replication" in report:
    rep = report["replication"]
    m, pc = rep["max_rate"], rep["paced"]
    out.append("### Replication: acks=all on three replicas")
    out.append("")
    out.append("Three Fjord brokers on this machine (metadata in a local etcd), a topic with replication factor 3 and "
               "`min.insync.replicas=2`, every broker fsyncing; the same librdkafka producer at acks=1 (the leader's "
               "durable write) and acks=all (every in-sync replica has it on disk: a follower reports only what it has synced), runs interleaved:")
    out.append("")
    out.append("| 1 KiB, 8 partitions | acks=1 | acks=all | acks=all / acks=1 |")
    out.append("|---|---|---|---|")
    a1, aa = m["acks_1"], m["acks_all"]
    out.append(f"| maximum rate, rec/s | {fmt(a1['records_per_s'])} | {fmt(aa['records_per_s'])} | {m['ratio']:.2f} |")
    out.append(f"| maximum rate, MB/s | {fmt(a1['MBps'])} | {fmt(aa['MBps'])} | {ratio(aa['MBps'], a1['MBps'])} |")
    for point in (pc if isinstance(pc, list) else [pc]):
        p1, pa = point["acks_1"], point["acks_all"]
        for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p99.9")):
            out.append(f"| produce {label} ms at {fmt(point['records_per_s'])} rec/s | {p1[key]:.2f} | "
                       f"{pa[key]:.2f} | {ratio(pa[key], p1[key])} |")
    out.append("")

if "groups" in report:
    g = report["groups"]
    out.append("### Consumer groups")
    out.append("")
    out.append("| | fjord | kafka | fjord / kafka |")
    out.append("|---|---|---|---|")
    j = g["join_10_members_ms"]
    out.append(f"| 10 cooperative-sticky members, start to all assigned, ms | {fmt(j['fjord'])} | {fmt(j['kafka'])} | "
               f"{ratio(j['fjord'], j['kafka'])} |")
    for n, rates in g["commits_per_s"].items():
        out.append(f"| offset commits/s, {n} consumer(s) committing synchronously | {fmt(rates['fjord'])} | "
                   f"{fmt(rates['kafka'])} | {ratio(rates['fjord'], rates['kafka'])} |")
    out.append("")
    out.append("Fjord answers a commit once it is fsynced; Kafka once it is in its page cache. Both brokers run with "
               "`group.initial.rebalance.delay.ms=0`.")
    out.append("")

out.append(f"This machine: {machine['cores']} cores; loopback {fmt(loopback)} MB/s; disk {fmt(machine['disk_fsync_1MiB_MBps'])} "
           f"MB/s writing 1 MiB per fdatasync, 4 KiB write + fdatasync p50 {machine['disk_fsync_4KiB_p50_ms']:.2f} ms. "
           f"Client: librdkafka {machine['librdkafka']} for every broker. Medians of {report.get('repeat', machine['repeat'])} "
           "runs (the cost-with-scale rows: one run each; startup: median of 5 starts). "
           "Fjord acknowledges only after fsync unless it says nosync; Kafka's default never fsyncs.")
(root / "results/latest.md").write_text("\n".join(out) + "\n")
print("\n".join(out))

# The chart: throughput per workload and broker, and latency at half of Kafka's maximum.
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    raise SystemExit(0)
if "compare" in report:
    c = report["compare"]
    brokers = ["fjord", "fjord-nosync", "kafka", "kafka-fsync", "mock"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8))
    labels = [f"{r['workload']}\nacks={r['acks']}" for r in c["max_rate"]]
    width = 0.16
    for i, b in enumerate(brokers):
        top.bar([x + i * width for x in range(len(labels))], [r[b]["MBps"] for r in c["max_rate"]], width, label=b)
    top.set_xticks([x + 2 * width for x in range(len(labels))], labels, fontsize=8)
    top.set_ylabel("produce MB/s (max rate)")
    top.legend(fontsize=8)
    rows = c["half_of_kafka_max"]
    for i, b in enumerate(brokers):
        bottom.bar([x + i * width for x in range(len(rows))], [r[b]["p99_ms"] for r in rows], width, label=b)
    bottom.set_xticks([x + 2 * width for x in range(len(rows))], [f"{r['workload']}\n{r['rate']:,.0f} rec/s" for r in rows],
                      fontsize=8)
    bottom.set_ylabel("produce p99 ms at half of Kafka's max (acks=all)")
    bottom.set_yscale("log")
    fig.suptitle(f"Fjord vs Apache Kafka vs librdkafka mock — {machine['cores']} cores, librdkafka {machine['librdkafka']}")
    fig.tight_layout()
    fig.savefig(root / "results/latest.png", dpi=90)
