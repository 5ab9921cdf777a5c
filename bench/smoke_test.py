#!/usr/bin/python3
"""Functional smoke test of the benchmark programs (not a benchmark): loadgen creates a topic,
produces 1,000 records with acks=all to 3 partitions of the null sink and sees each one
acknowledged; conn_bench opens 20 connections to it and gets Produce answers without errors.

usage: smoke_test.py <build dir>
"""

import json
import re
import subprocess
import sys
from pathlib import Path

build = Path(sys.argv[1])
sink = subprocess.Popen([str(build / "bench/null_sink/null_sink"), "--port", "0"],
                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
try:
    line = sink.stdout.readline()
    m = re.search(r"listening on ([\d.]+:\d+)", line)
    assert m, f"null_sink printed {line!r}"
    bootstrap = m.group(1)

    p = subprocess.run([str(build / "bench/loadgen/loadgen"), "--brokers", bootstrap,
                        "--topic", "smoke", "--partitions", "3", "--records", "1000",
                        "--acks", "all", "--producers", "2", "--broker-pid", str(sink.pid),
                        "--json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"loadgen exit {p.returncode}: {p.stderr}"
    r = json.loads(p.stdout)
    assert r["topic"]["created"], r
    assert r["produce"]["records"] == 1000, r
    assert r["produce"]["errors"] == 0, r
    assert r["produce"]["ack_latency_us"]["count"] == 1000, r
    assert r["produce"]["ack_latency_us"]["p50"] > 0, r
    assert r["broker"]["vm_hwm_kb"] > 0, r

    p = subprocess.run([str(build / "bench/connections/conn_bench"), "--brokers", bootstrap,
                        "--topic", "smoke", "--partitions", "3", "--connections", "20",
                        "--seconds", "0.5", "--json"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, f"conn_bench exit {p.returncode}: {p.stdout} {p.stderr}"
    r = json.loads(p.stdout)
    assert r["connected"] == 20 and r["requests"] > 0 and r["errors"] == 0, r
    print("bench smoke test passed")
finally:
    sink.terminate()
    sink.wait(timeout=30)
