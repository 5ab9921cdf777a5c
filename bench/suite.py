#!/usr/bin/python3
"""The standard benchmark suite behind `make bench` (scripts/bench.sh builds, then runs this).

Starts a fresh broker on a free port with a temporary data directory and measures, in one run:
produce of 1 KiB records flat out (acks=1 and acks=all, 1 and 6 partitions), consume of the same
data, end-to-end latency at fixed rates, 10,000 partitions (create, metadata, produce to all),
1,000 concurrent producer connections, idle RSS, start-up time empty and with 10,000 partitions
on disk, and the cost of message-format conversion (a client speaking Kafka 0.9's protocol:
Produce v1 / Fetch v1 with message format v0, converted on the broker). Beside each figure it measures the limit that bounds it on this machine: the null sink
(the client's own ceiling), loopback TCP bandwidth (iperf3), sequential write bandwidth and
fdatasync latency (storage_bench's machine section) and the storage engine's own start-up time.

Prints a table of figure, limit and ratio and writes everything to build/bench/results.json.

Environment: BUILD_DIR (build/release), BENCH_SCALE (1.0: multiplies record counts and
durations), BENCH_OUT (build/bench/results.json), BENCH_DIR (a temporary directory under
/tmp: broker data and scratch files; removed at the end).
Standard library only; run with /usr/bin/python3.
"""

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("BUILD_DIR", ROOT / "build/release"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "build/bench/results.json"))

SLUICE = BUILD / "src/app/sluice"
LOADGEN = BUILD / "bench/loadgen/loadgen"
NULL_SINK = BUILD / "bench/null_sink/null_sink"
CONN_BENCH = BUILD / "bench/connections/conn_bench"
STORAGE_BENCH = BUILD / "bench/storage/storage_bench"

RUN_TIMEOUT_S = 600

# librdkafka speaking Kafka 0.9's protocol without asking the broker (no ApiVersions): Produce v1
# and Fetch v1 with message format v0, which the broker up-converts on append and down-converts
# on fetch (docs/performance.md, "Message-format conversion"). With a fallback of 0.10.0 or
# later librdkafka sends ApiVersions anyway and then uses the newest versions.
OLD_CLIENT = ["api.version.request=false", "broker.version.fallback=0.9.0"]

# The goals: (key of the figure, comparison, threshold, text).
GOALS = {
    "produce_all_p1_ratio": (">=", 0.8, "produce 1 KiB acks=all 1 partition >= 80% of null sink"),
    "consume_mb_s": (">=", 1500, "consume >= 1.5 GB/s"),
    "e2e_p99_ms_50k": ("<", 5, "end-to-end p99 < 5 ms at 50k records/s"),
    "idle_rss_mb": ("<", 30, "idle RSS < 30 MB"),
    "startup_ms": ("<", 100, "start-up < 100 ms"),
    "startup_10k_ms": ("<", 2000, "start-up with 10,000 partitions < 2 s"),
}


def scaled(n):
    return max(1, int(n * SCALE))


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_connectable(port, deadline_s=30.0):
    """Polls connect() until it succeeds; returns the time at which it did."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return time.monotonic()
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing accepts on port {port} after {deadline_s} s")


def count_dirs(data, prefix):
    return sum(1 for d in data.iterdir() if d.is_dir() and d.name.startswith(prefix))


def proc_kb(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class Broker:
    """A `sluice start` process on a free port; start-up is timed to the first accepted
    connection (from just before the fork)."""

    def __init__(self, data_dir, log_path):
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = None

    def start(self):
        self.port = free_port()
        args = [str(SLUICE), "start",
                "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", f"log.dirs={self.data_dir}"]
        # Kafka's default listen backlog (50) overflows when 1,000 clients connect at once: the
        # kernel then drops handshakes and data until TCP retransmits, with waits up to minutes
        # (docs/performance.md). The null sink listens with 4096 too.
        args += ["--override", "socket.listen.backlog.size=4096"]
        self.err = open(self.log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=self.err)
        try:
            t1 = wait_connectable(self.port, 120)
        except RuntimeError:
            self.proc.kill()
            raise
        self.startup_ms = (t1 - t0) * 1e3
        return self

    @property
    def pid(self):
        return self.proc.pid

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode


class NullSink:
    def __init__(self, partitions=1):
        t0 = time.monotonic()
        self.proc = subprocess.Popen([str(NULL_SINK), "--port", "0", "--partitions",
                                      str(partitions)], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not m:
            raise RuntimeError(f"null_sink did not start: {line!r}")
        self.port = int(m.group(2))
        self.startup_ms = (wait_connectable(self.port) - t0) * 1e3
        self.bootstrap = f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def run_json(args, what):
    """Runs a bench program with --json; returns its object, with "error" set when it failed."""
    log(f"  {what}: {' '.join(str(a) for a in args)}")
    try:
        p = subprocess.run([str(a) for a in args] + ["--json"], capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {RUN_TIMEOUT_S} s"}
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            out = json.loads(line)
    if p.returncode != 0:
        # A failed run contributes no figure to the table; its output is kept for reading.
        error = f"exit code {p.returncode}: {p.stderr.strip()[-500:]}"
        log(f"    FAILED: {error}")
        return {"error": error, "output": out}
    return out


def loadgen(target, topic, **kw):
    args = [LOADGEN, "--brokers", target.bootstrap, "--topic", topic]
    for k, v in kw.items():
        if v is None:
            continue
        if v is True:
            args.append("--" + k.replace("_", "-"))
        elif isinstance(v, list):
            for item in v:
                args += ["--" + k.replace("_", "-"), item]
        else:
            args += ["--" + k.replace("_", "-"), v]
    if hasattr(target, "pid"):
        args += ["--broker-pid", target.pid]
    return run_json(args, f"loadgen {topic}")


def conn_bench(target, topic, partitions, connections, seconds):
    return run_json([CONN_BENCH, "--brokers", target.bootstrap, "--topic", topic,
                     "--partitions", partitions, "--connections", connections,
                     "--seconds", seconds, "--broker-pid", target.pid], "conn_bench")


def get(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


# ---------------------------------------------------------------------------------------------
# The machine


def machine_info(scratch):
    info = {"kernel": platform.release(), "nproc": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.*)", lscpu)
        info["cpu"] = m.group(1).strip() if m else "?"
        m = re.search(r"Hypervisor vendor:\s*(.*)", lscpu)
        info["hypervisor"] = m.group(1).strip() if m else "none"
    except OSError:
        pass
    try:
        df = subprocess.run(["df", "-hT", str(scratch)], capture_output=True, text=True).stdout
        info["disk"] = df.splitlines()[-1]
    except OSError:
        pass
    mem = Path("/proc/meminfo").read_text().splitlines()[0]
    info["memory"] = mem.split(":")[1].strip()
    info["load_average_at_start"] = os.getloadavg()
    return info


def iperf3_loopback(seconds):
    if shutil.which("iperf3") is None:
        return {"error": "iperf3 not installed"}
    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The server serves one client (-1), so readiness is not probed with a connection: the
    # client is retried until the server listens.
    error = "iperf3 server did not start"
    try:
        for _ in range(50):
            p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t",
                                str(seconds), "-J"], capture_output=True, text=True,
                               timeout=seconds + 60)
            data = json.loads(p.stdout) if p.stdout.strip() else {}
            if "sum_received" in data.get("end", {}):
                bps = data["end"]["sum_received"]["bits_per_second"]
                return {"mb_s": bps / 8 / 1e6, "seconds": seconds}
            error = data.get("error", p.stderr.strip())
            time.sleep(0.1)
        return {"error": error}
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
        return {"error": str(e)}
    finally:
        server.kill()
        server.wait()


def storage_machine(scratch, partitions):
    """storage_bench's machine section plus its log-manager start-up of `partitions`."""
    args = [str(STORAGE_BENCH), "--dir", str(scratch), "--gib", str(0.5 * SCALE),
            "--only", "startup", "--partitions", str(partitions)]
    log(f"  storage_bench: {' '.join(args)}")
    p = subprocess.run(args, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    text = p.stdout
    out = {"output": text}
    m = re.search(r"sequential write\(2\).*?: (\d+) MiB/s", text)
    if m:
        out["write_mib_s"] = float(m.group(1))
    m = re.search(r"fdatasync after a 4 KiB append: p50 (\d+) us, p99 (\d+) us", text)
    if m:
        out["fdatasync_p50_us"], out["fdatasync_p99_us"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"start-up of (\d+) partitions after a clean shutdown.*?: ([\d.]+) s", text)
    if m:
        out["log_manager_startup_ms"] = float(m.group(2)) * 1e3
    if p.returncode != 0:
        out["error"] = f"exit code {p.returncode}: {p.stderr[-500:]}"
    return out


# ---------------------------------------------------------------------------------------------
# The runs


PRODUCE_CASES = [("1", 1), ("all", 1), ("1", 6), ("all", 6)]
RATES = [10000, 50000, 100000]


def produce_runs(target, prefix, records):
    out = {}
    for acks, parts in PRODUCE_CASES:
        topic = f"{prefix}-a{acks}-p{parts}"
        out[f"a{acks}-p{parts}"] = loadgen(target, topic, partitions=parts, records=records,
                                           record_size=1024, acks=acks)
    return out


def rate_runs(target, prefix, seconds, consume):
    out = {}
    for rate in RATES:
        topic = f"{prefix}-rate{rate}"
        out[str(rate)] = loadgen(target, topic, mode="e2e" if consume else "produce",
                                 partitions=6, records=int(rate * seconds), rate=rate,
                                 record_size=1024, acks="all", linger_ms=1)
    return out


def conversion_runs(broker, records):
    """Produce and consume 1 KiB records, 1 partition, acks=all, as an old client and as a
    current one, interleaved so that both see the same machine."""
    out = {"records": records}
    for old in (False, True):
        tag = "v0" if old else "v2"
        props = OLD_CLIENT if old else []
        topic = f"bench-conv-{tag}"
        out[f"produce_{tag}"] = loadgen(broker, topic, partitions=1, records=records,
                                        record_size=1024, acks="all",
                                        producer_prop=props or None)
        out[f"consume_{tag}"] = loadgen(broker, "bench-conv-v2", mode="consume", no_create=True,
                                        partitions=1, records=records, record_size=1024,
                                        consumer_prop=props or None)
    return out


def run_suite(work):
    results = {"scale": SCALE, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    records = scaled(300000)
    rate_seconds = max(1.0, 4 * SCALE)
    conn_seconds = max(1.0, 5 * SCALE)
    partitions_10k = 10000
    records_10k = scaled(100000)

    log("== machine")
    results["machine"] = machine_info(work)
    results["loopback"] = iperf3_loopback(max(1, int(3 * SCALE)))
    log(f"  loopback TCP: {results['loopback']}")
    results["storage"] = storage_machine(work / "storage", partitions_10k)

    log("== null sink (the client's own ceiling)")
    sink = NullSink()
    null = {"startup_ms": sink.startup_ms, "idle_rss_kb": proc_kb(sink.pid, "VmRSS")}
    null["produce"] = produce_runs(sink, "null", records)
    null["rates"] = rate_runs(sink, "null", rate_seconds, consume=False)
    null["p10k"] = loadgen(sink, "null-p10k", partitions=partitions_10k, records=records_10k,
                           record_size=1024, acks="1")
    loadgen(sink, "null-conn", mode="create", partitions=6)
    null["connections"] = conn_bench(sink, "null-conn", 6, 1000, conn_seconds)
    sink.stop()
    results["null_sink"] = null

    log("== broker")
    data = work / "data"
    data.mkdir()
    broker = Broker(data, work / "broker.log").start()
    b = {"startup_ms": broker.startup_ms}
    # Idle: nothing has connected except the start-up probe; give it a moment to settle.
    time.sleep(1)
    b["idle_rss_kb"] = proc_kb(broker.pid, "VmRSS")
    b["produce"] = produce_runs(broker, "bench", records)
    b["consume"] = {}
    for acks, parts in PRODUCE_CASES:
        if acks != "all":
            continue
        topic = f"bench-a{acks}-p{parts}"
        b["consume"][f"p{parts}"] = loadgen(broker, topic, mode="consume", no_create=True,
                                            partitions=parts, consumers=min(parts, 2),
                                            records=records, record_size=1024)
    b["conversion"] = conversion_runs(broker, records)
    b["rates"] = rate_runs(broker, "bench", rate_seconds, consume=True)
    b["p10k"] = loadgen(broker, "bench-p10k", partitions=partitions_10k, records=records_10k,
                        record_size=1024, acks="1")
    if not broker.alive():
        raise RuntimeError(f"broker exited; see {broker.log_path}")
    loadgen(broker, "bench-conn", mode="create", partitions=6)
    b["connections"] = conn_bench(broker, "bench-conn", 6, 1000, conn_seconds)
    b["peak_rss_kb"] = proc_kb(broker.pid, "VmHWM")
    # Metadata lists the partitions before every directory exists; the restart below is meant
    # to find them all on disk, so wait for them (and note how long that took).
    wait_start = time.monotonic()
    deadline = wait_start + 600
    while count_dirs(data, "bench-p10k-") < partitions_10k and time.monotonic() < deadline:
        time.sleep(0.5)
    b["p10k_dirs_wait_ms"] = (time.monotonic() - wait_start) * 1e3
    b["p10k_dirs_before_restart"] = count_dirs(data, "bench-p10k-")
    b["stop_exit_code"] = broker.stop()

    log("== broker restart with 10,000+ partitions on disk")
    broker = Broker(data, work / "broker.log").start()
    b["startup_10k_ms"] = broker.startup_ms
    b["partition_dirs"] = count_dirs(data, "")
    broker.stop()
    results["broker"] = b
    return results


# ---------------------------------------------------------------------------------------------
# The table


def figures(r):
    """Rows: (name, unit, broker value, limit value, limit source, goal key or None)."""
    b, n = r.get("broker", {}), r.get("null_sink", {})
    loop = get(r, "loopback", "mb_s")
    rows = []
    for acks, parts in PRODUCE_CASES:
        k = f"a{acks}-p{parts}"
        rows.append((f"produce 1 KiB acks={acks}, {parts} partition(s)", "MB/s",
                     get(b, "produce", k, "produce", "mb_s"),
                     get(n, "produce", k, "produce", "mb_s"), "null sink",
                     "produce_all_p1_ratio" if (acks, parts) == ("all", 1) else None))
    for parts in (1, 6):
        rows.append((f"consume 1 KiB, {parts} partition(s)", "MB/s",
                     get(b, "consume", f"p{parts}", "consume", "mb_s"), loop,
                     "loopback TCP (iperf3)", "consume_mb_s"))
    for rate in RATES:
        e2e = get(b, "rates", str(rate), "consume", "e2e_latency_us", "p99")
        ack = get(n, "rates", str(rate), "produce", "ack_latency_us", "p99")
        rows.append((f"end-to-end p99 at {rate // 1000}k records/s", "ms",
                     e2e / 1e3 if e2e is not None else None,
                     ack / 1e3 if ack is not None else None, "null sink ack p99",
                     "e2e_p99_ms_50k" if rate == 50000 else None))
        e2e = get(b, "rates", str(rate), "consume", "e2e_latency_us", "p999")
        rows.append((f"end-to-end p99.9 at {rate // 1000}k records/s", "ms",
                     e2e / 1e3 if e2e is not None else None, None, "", None))
    conv = b.get("conversion", {})
    rows.append(("produce 1 KiB acks=all, 1 partition, Produce v1 (format v0, up-converted)",
                 "MB/s", get(conv, "produce_v0", "produce", "mb_s"),
                 get(conv, "produce_v2", "produce", "mb_s"), "same broker, Produce v9+", None))
    rows.append(("consume 1 KiB, 1 partition, Fetch v1 (format v0, down-converted)", "MB/s",
                 get(conv, "consume_v0", "consume", "mb_s"),
                 get(conv, "consume_v2", "consume", "mb_s"), "same broker, Fetch v11+", None))
    gb = conv.get("records", 0) * 1024 / 1e9

    def cpu_per_gb(run):
        cpu = get(conv, run, "broker", "cpu_s")
        return cpu / gb if cpu is not None and gb else None
    for what, old, new in (("produce", "produce_v0", "produce_v2"),
                           ("consume", "consume_v0", "consume_v2")):
        rows.append((f"broker CPU per GB, {what} with conversion", "s/GB", cpu_per_gb(old),
                     cpu_per_gb(new), "same broker, no conversion", None))
    rows.append(("10,000 partitions: create", "ms", get(b, "p10k", "topic", "create_ms"),
                 get(n, "p10k", "topic", "create_ms"), "null sink", None))
    rows.append(("10,000 partitions: Metadata", "ms", get(b, "p10k", "topic", "metadata_ms"),
                 get(n, "p10k", "topic", "metadata_ms"), "null sink", None))
    rows.append(("10,000 partitions: produce to all", "MB/s",
                 get(b, "p10k", "produce", "mb_s"), get(n, "p10k", "produce", "mb_s"),
                 "null sink", None))
    rows.append(("1,000 connections: produce requests", "req/s",
                 get(b, "connections", "requests_s"), get(n, "connections", "requests_s"),
                 "null sink", None))
    p99 = get(b, "connections", "latency_us", "p99")
    np99 = get(n, "connections", "latency_us", "p99")
    rows.append(("1,000 connections: request p99", "ms", p99 / 1e3 if p99 else None,
                 np99 / 1e3 if np99 else None, "null sink", None))
    rss = get(b, "connections", "broker", "vm_rss_kb_connected")
    rows.append(("1,000 connections: broker RSS", "MB", rss / 1024 if rss else None, None, "",
                 None))
    idle = b.get("idle_rss_kb")
    rows.append(("idle RSS", "MB", idle / 1024 if idle else None,
                 n["idle_rss_kb"] / 1024 if n.get("idle_rss_kb") else None,
                 "null sink process", "idle_rss_mb"))
    peak = b.get("peak_rss_kb")
    rows.append(("peak RSS over the suite", "MB", peak / 1024 if peak else None, None, "", None))
    rows.append(("start-up to first accepted connection", "ms", b.get("startup_ms"),
                 n.get("startup_ms"), "null sink process", "startup_ms"))
    rows.append(("start-up with 10,000 partitions on disk", "ms", b.get("startup_10k_ms"),
                 get(r, "storage", "log_manager_startup_ms"), "storage engine alone",
                 "startup_10k_ms"))
    return rows


def goal_met(key, value, r):
    if key is None or value is None:
        return None
    op, threshold, _ = GOALS[key]
    return value >= threshold if op == ">=" else value < threshold


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def render(r):
    rows = figures(r)
    table = []
    lines = ["| figure | unit | Sluice | limit | limit source | ratio | goal |",
             "|---|---|---:|---:|---|---:|---|"]
    for name, unit, value, limit, source, goal in rows:
        ratio = value / limit if value is not None and limit else None
        gval = ratio if goal == "produce_all_p1_ratio" else value
        met = goal_met(goal, gval, r)
        gtext = "" if goal is None else f"{GOALS[goal][2]}: {'met' if met else 'MISSED' if met is False else '?'}"
        lines.append(f"| {name} | {unit} | {fmt(value)} | {fmt(limit)} | {source} | "
                     f"{fmt(ratio) if ratio is not None else '-'} | {gtext} |")
        table.append({"figure": name, "unit": unit, "sluice": value, "limit": limit,
                      "limit_source": source, "ratio": ratio,
                      "goal": GOALS[goal][2] if goal else None, "goal_met": met})
    s = r.get("storage", {})
    lines.append("")
    lines.append(f"machine: {get(r, 'machine', 'cpu')}, {get(r, 'machine', 'nproc')} CPUs, "
                 f"kernel {get(r, 'machine', 'kernel')}; loopback TCP "
                 f"{fmt(get(r, 'loopback', 'mb_s'))} MB/s; sequential write "
                 f"{fmt(s.get('write_mib_s'))} MiB/s; fdatasync p50 "
                 f"{fmt(s.get('fdatasync_p50_us'))} us, p99 {fmt(s.get('fdatasync_p99_us'))} us")
    return "\n".join(lines), table


def main():
    for exe in (SLUICE, LOADGEN, NULL_SINK, CONN_BENCH, STORAGE_BENCH):
        if not exe.exists():
            sys.exit(f"bench: {exe} is missing; build first (make bench does)")
    base = os.environ.get("BENCH_DIR")
    work = Path(tempfile.mkdtemp(prefix="sluice-bench-", dir=base))
    started = time.monotonic()
    try:
        results = run_suite(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["suite_seconds"] = time.monotonic() - started
    text, table = render(results)
    results["table"] = table
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    (OUT.parent / "results.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nsuite took {results['suite_seconds']:.0f} s; results in {OUT} and "
          f"{OUT.parent / 'results.md'}")


if __name__ == "__main__":
    main()
