#!/usr/bin/env python3
"""The pause a consumer-group member restart causes, measured with `fjord chaos`, under three group settings:
eager (range, dynamic members), cooperative-sticky (dynamic) and cooperative-sticky with static membership; against
Fjord and against Apache Kafka (bench/kafka/run-kafka.sh), one broker after the other on this machine.

    bench/chaos_pauses.py [--duration 45] [--fault-interval 7] [--runs 3] [--brokers fjord,kafka]

Each run restarts one member at a time (SIGTERM, back 0.5 s later) while 3 members process 6 partitions at
500 records/s. Per broker and group setting it reports the medians over the restarts of all its runs of:
rebalances, partitions revoked, the longest pause of any partition, and the longest pause of the partitions the
restarted member did not own; and the records lost over all runs.
Writes bench/results/chaos-pauses.{json,md}.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FJORD = os.path.join(ROOT, "build", "release", "cli", "fjord")
MODES = [
    ("eager (range), dynamic", ["--strategy", "range", "--dynamic"]),
    ("cooperative-sticky, dynamic", ["--strategy", "cooperative-sticky", "--dynamic"]),
    ("cooperative-sticky, static", ["--strategy", "cooperative-sticky"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, proc, log_path, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("broker exited while starting:\n" + open(log_path).read()[-3000:])
        if subprocess.run(["kcat", "-b", f"127.0.0.1:{port}", "-L", "-m", "2"], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    sys.exit("broker did not start")


def start_broker(name, work):
    port = free_port()
    log_path = os.path.join(work, f"{name}.log")
    log = open(log_path, "w")
    if name == "fjord":
        cmd = [FJORD, "broker", "--data-dir", os.path.join(work, "fjord"), "--listen", f"127.0.0.1:{port}",
               "--admin-listen", f"127.0.0.1:{free_port()}"]
        env = None
    else:
        cmd = [os.path.join(ROOT, "bench", "kafka", "run-kafka.sh"), os.path.join(work, "kafka"), str(port),
               str(free_port())]
        env = dict(os.environ, KAFKA_LOG_LEVEL="WARN", KAFKA_GC_LOG="0")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_for(port, proc, log_path)
    return proc, f"127.0.0.1:{port}"


def median(values):
    return statistics.median(values) if values else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=45)
    parser.add_argument("--fault-interval", type=float, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--brokers", default="fjord,kafka")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as work:
        for broker in args.brokers.split(","):
            proc, bootstrap = start_broker(broker, work)
            try:
                for label, flags in MODES:
                    faults, lost = [], 0
                    for _ in range(args.runs):
                        out = subprocess.run(
                            [FJORD, "chaos", "--bootstrap-server", bootstrap, "--format", "json", "--faults",
                             "restart", "--duration", str(args.duration), "--fault-interval",
                             str(args.fault_interval), "--rate", "500", "--members", "3", "--partitions", "6"] + flags,
                            capture_output=True, text=True)
                        report = json.loads(out.stdout)
                        faults += [f for f in report["faults"] if f["kind"] == "restart"]
                        lost += report["records"]["lost"]
                        if report["records"]["lost"]:  # the run keeps its journal and member logs for a look
                            print(f"{broker}, {label}: lost {json.dumps(report['lost_examples'])}; journal in "
                                  f"{report['work_dir']}", file=sys.stderr, flush=True)
                    row = {
                        "broker": broker, "mode": label, "runs": args.runs, "restarts": len(faults), "lost": lost,
                        "rebalances": median([f["rebalances"] for f in faults]),
                        "revoked_partitions": median([f["revoked_partitions"] for f in faults]),
                        "pause_ms": median([f["pause_ms"] for f in faults]),
                        "other_partitions_pause_ms": median([f["other_partitions_pause_ms"] for f in faults]),
                    }
                    print(json.dumps(row), flush=True)
                    results.append(row)
            finally:
                proc.terminate()
                proc.wait()
    out_dir = os.path.join(ROOT, "bench", "results")
    with open(os.path.join(out_dir, "chaos-pauses.json"), "w") as f:
        json.dump({"command": " ".join(sys.argv), "results": results}, f, indent=2)
    lines = [
        "| broker | group settings | restarts | rebalances per restart | partitions revoked | longest pause (ms) "
        "| others' longest pause (ms) | lost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['broker']} | {r['mode']} | {r['restarts']} | {r['rebalances']:g} | "
                     f"{r['revoked_partitions']:g} | {r['pause_ms']:g} | {r['other_partitions_pause_ms']:g} | "
                     f"{r['lost']} |")
    with open(os.path.join(out_dir, "chaos-pauses.md"), "w") as f:
        f.write("Member restart (SIGTERM, back after 0.5 s), 3 members, 6 partitions, 500 records/s, medians over "
                f"the restarts of {args.runs} runs, records lost in all. Measured by `" + " ".join(["bench/chaos_pauses.py"] + sys.argv[1:]) +
                "`.\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
