"""Harness for the integration tests: each test runs its own `sluice` process.

The binary comes from $SLUICE_BIN. A broker is started with a free port
(listeners=PLAINTEXT://127.0.0.1:0; the real port is read from the log line
`listening on PLAINTEXT://127.0.0.1:<port>`) and a temporary data directory. Its stderr goes
to a file, so the log "so far" is exactly what the broker has written: every line the broker
wrote before it closed a socket is in the file by the time the test sees that socket closed.
Waiting is done on log lines and on process exit, each with a deadline; nothing sleeps to
synchronise.

At the end of a test every broker it started and left running gets SIGTERM and must exit
with code 0 after logging `shut down cleanly`.
"""

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Deadlines are generous: the same tests run against AddressSanitizer builds on a shared
# two-core machine. A healthy broker meets them by orders of magnitude.
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0
CLI_DEADLINE_S = 30.0
# A broker that must refuse to start does so in well under a second.
REFUSE_DEADLINE_S = 15.0
POLL_INTERVAL_S = 0.01

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# 2026-01-01T12:00:00.000 info  [broker] message
_LOG_LINE = re.compile(r"^\S+ (?P<level>[a-z]+)\s+\[(?P<logger>[^\]]+)\] (?P<message>.*)$")
_LISTENING = r"listening on PLAINTEXT://(?P<host>[^\s:]+):(?P<port>\d+)"


def sluice_binary() -> str:
    path = os.environ.get("SLUICE_BIN")
    if not path:
        pytest.fail("SLUICE_BIN is not set: point it at the sluice binary "
                    "(ctest sets it; by hand: SLUICE_BIN=build/<dir>/src/app/sluice)",
                    pytrace=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"SLUICE_BIN={path} is not an executable file", pytrace=False)
    return path


@dataclass
class LogLine:
    level: str
    logger: str
    message: str


class SluiceProcess:
    """One `sluice` process with stdout and stderr captured in files."""

    def __init__(self, args, workdir: Path, name: str):
        self.args = [sluice_binary(), *[str(a) for a in args]]
        workdir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=workdir)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        """Everything the process has written to stderr so far."""
        return _ANSI.sub("", self.stderr_path.read_text(errors="replace"))

    def stdout(self) -> str:
        return _ANSI.sub("", self.stdout_path.read_text(errors="replace"))

    def lines(self):
        """The log so far as parsed lines (lines not in the log format are skipped)."""
        out = []
        for raw in self.log().splitlines():
            m = _LOG_LINE.match(raw)
            if m:
                out.append(LogLine(m["level"], m["logger"], m["message"]))
        return out

    def describe(self) -> str:
        return (f"command: {' '.join(self.args)}\nexit code: {self.proc.poll()}\n"
                f"--- stderr ---\n{self.log()}--- stdout ---\n{self.stdout()}")

    def wait_for_log(self, pattern: str, timeout: float = START_DEADLINE_S, start: int = 0):
        """Waits until a log line (from line index `start` on) matches `pattern`; returns the
        match. Fails if the process exits first or the deadline passes."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            exited = self.proc.poll() is not None
            for line in self.log().splitlines()[start:]:
                m = regex.search(line)
                if m:
                    return m
            if exited:
                pytest.fail(f"sluice exited before logging /{pattern}/\n{self.describe()}",
                            pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"no log line /{pattern}/ within {timeout}s\n{self.describe()}",
                            pytrace=False)
            time.sleep(POLL_INTERVAL_S)

    def wait_exit(self, timeout: float) -> int:
        """Waits for the process to exit; kills it and fails if it does not in time."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.proc.kill()
        self.proc.wait()
        pytest.fail(f"sluice did not exit within {timeout}s (killed)\n{self.describe()}",
                    pytrace=False)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Broker:
    """A running broker, as a test sees it."""
    process: SluiceProcess
    host: str
    port: int
    data_dir: Path
    node_id: int
    stopped: bool = field(default=False)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def log(self) -> str:
        return self.process.log()

    def lines(self):
        return self.process.lines()

    def line_count(self) -> int:
        """A mark for `lines_since`."""
        return len(self.process.lines())

    def lines_since(self, mark: int):
        return self.process.lines()[mark:]

    def problems_since(self, mark: int):
        """Warnings, errors and criticals logged since `mark`."""
        return [l for l in self.lines_since(mark)
                if l.level in ("warning", "warn", "error", "critical")]

    def stop(self, sig=signal.SIGTERM) -> int:
        """Sends `sig`, waits for the exit and asserts a clean shutdown; returns the exit code."""
        assert not self.stopped, "broker already stopped"
        self.stopped = True
        assert self.process.proc.poll() is None, \
            f"broker died before it was stopped\n{self.process.describe()}"
        self.process.proc.send_signal(sig)
        code = self.process.wait_exit(STOP_DEADLINE_S)
        log = self.process.log()
        assert code == 0, f"exit code {code} after {sig.name}\n{self.process.describe()}"
        assert "shut down cleanly" in log, f"no 'shut down cleanly'\n{self.process.describe()}"
        return code


class SluiceLauncher:
    """Starts sluice processes for one test and cleans up after it."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self._processes = []
        self._brokers = []
        self._count = 0

    def _spawn(self, args) -> SluiceProcess:
        self._count += 1
        p = SluiceProcess(args, self.tmp_path / "run", f"sluice-{self._count}")
        self._processes.append(p)
        return p

    def start_args(self, config_file=None, overrides=None, data_dir=None, log_level=None,
                   listeners="PLAINTEXT://127.0.0.1:0", extra=()):
        """The command line of `sluice start` with the harness defaults (free port, temporary
        data directory, two shards) under the test's own overrides."""
        settings = {"listeners": listeners, "sluice.shards": "2"}
        if data_dir is not None:
            settings["log.dirs"] = str(data_dir)
        settings.update(overrides or {})
        settings = {k: v for k, v in settings.items() if v is not None}
        args = ["start"]
        if config_file is not None:
            args.append(str(config_file))
        for key, value in settings.items():
            args += ["--override", f"{key}={value}"]
        if log_level is not None:
            args += ["--log-level", log_level]
        args += list(extra)
        return args

    def start(self, config_file=None, overrides=None, data_dir=None, log_level=None,
              **kwargs) -> Broker:
        """Starts a broker and waits until it logs `ready`. Unless the test passes its own
        data directory (or log.dirs in a file), it gets a fresh one."""
        if data_dir is None and config_file is None and "log.dirs" not in (overrides or {}):
            data_dir = self.tmp_path / f"data-{self._count + 1}"
        args = self.start_args(config_file, overrides, data_dir, log_level, **kwargs)
        p = self._spawn(args)
        listening = p.wait_for_log(_LISTENING)
        p.wait_for_log(r"ready in \d+ ms")
        node = p.wait_for_log(r"cluster id \S+, node id (-?\d+)")
        data = p.wait_for_log(r"data directory (\S+)")
        broker = Broker(p, listening["host"], int(listening["port"]), Path(data[1]),
                        int(node[1]))
        self._brokers.append(broker)
        return broker

    def start_expecting_failure(self, config_file=None, overrides=None, data_dir=None,
                                **kwargs):
        """Starts a broker that must refuse to start; returns (exit code, stderr)."""
        args = self.start_args(config_file, overrides, data_dir, **kwargs)
        p = self._spawn(args)
        code = p.wait_exit(REFUSE_DEADLINE_S)
        return code, p.log()

    def run(self, *args, timeout: float = CLI_DEADLINE_S):
        """Runs a sluice command that exits by itself; returns (exit code, stdout, stderr)."""
        p = self._spawn(args)
        code = p.wait_exit(timeout)
        return code, p.stdout(), p.log()

    def spawn(self, *args) -> SluiceProcess:
        """Starts a raw sluice process; the test waits on it itself."""
        return self._spawn(args)

    def finish(self):
        problems = []
        for b in self._brokers:
            if b.stopped:
                continue
            try:
                b.stop()
            except BaseException as e:  # pytest.fail raises a BaseException
                problems.append(str(e))
        for p in self._processes:
            if p.proc.poll() is None:
                problems.append(f"sluice still running at the end of the test (killed)\n"
                                f"{p.describe()}")
                p.kill()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def sluice(tmp_path):
    """Starts sluice processes for the test; stops them (cleanly, asserted) at the end."""
    launcher = SluiceLauncher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.finish()


@pytest.fixture
def broker(sluice) -> Broker:
    """A fresh broker: host, port, data_dir, node_id, log() and lines_since() for its log."""
    return sluice.start()
