"""The real `microgrid` CLI on one input at a time, in a forked child with hard bounds.

A server process imports `microgrid` once (about 4 s), with what its commands import on first
use (the assembly with pandapower and matplotlib, the export and sweep sub-commands), then
forks a child per request, so each hostile input costs only its own work (about 0.2 s for a
`validate`, not 1.3 s of imports). The child runs `microgrid.cli.main(argv)` with
its stdout and stderr in files, an address-space limit (`memory_mb` above the server's own
size) and a real-time alarm (`time_s`): a hang ends in SIGALRM and a memory blow-up in a
MemoryError, both reported as failures. Used by the fuzz tests and by the larger
hostile-input campaign (`make fuzz`).

Protocol: one JSON object a line on the server's stdin (`argv`, `cwd`, `time_s`,
`memory_mb`), one JSON `Outcome` a line on its stdout.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import microgrid.assemble  # noqa: F401  (imported once here, not in every child: see serve)
import microgrid.cli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Outcome:
    """What one CLI call did: exit code (None if killed), signal, output, cost."""

    exit_code: int | None
    signal: int | None
    stdout: str
    stderr: str
    elapsed_s: float
    max_rss_growth_mb: float

    def problems(self, max_error_lines: int = 1) -> list[str]:
        """Why this outcome breaks the bad-input rules (empty: it keeps them). `validate`
        lists every error, one `error:` line each (20 and a count at most): pass 21."""
        found = []
        if self.signal is not None:
            name = "hang (time bound)" if self.signal == signal.SIGALRM else "killed"
            found.append(f"{name}: signal {self.signal}")
        if "Traceback" in self.stderr or "Traceback" in self.stdout:
            found.append("traceback")
        if self.exit_code not in (0, 2, None):
            found.append(f"exit code {self.exit_code}")
        if self.exit_code == 2:
            lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
            if not 1 <= len(lines) <= max_error_lines:
                found.append(f"{len(lines)} stderr lines, not 1-{max_error_lines}")
            if not all(ln.startswith("error: ") for ln in lines):
                found.append("a stderr line that is not an 'error: ' line")
            if any(len(ln) > 2000 for ln in lines):
                found.append("an error line over 2000 characters")
        return found


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vsize_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()


def _child(request: dict, out_path: str, err_path: str) -> None:
    """In the forked child: bound, redirect, run the CLI, exit with its code."""
    limit = _vsize_bytes() + int(request["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, float(request["time_s"]))
    os.chdir(request["cwd"])
    sys.stdout = open(out_path, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
    sys.stderr = open(err_path, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        os.dup2(stream.fileno(), fd)
    try:
        code = microgrid.cli.main(request["argv"])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))


def _serve_one(request: dict, scratch: Path) -> Outcome:
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(request, str(out_path), str(err_path))
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - t0
    read = lambda p: p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""  # noqa: E731
    return Outcome(
        exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        stdout=read(out_path),
        stderr=read(err_path),
        elapsed_s=round(elapsed, 3),
        max_rss_growth_mb=round(max(0.0, usage.ru_maxrss / 1024 - rss_before), 1),
    )


def serve() -> None:
    """The server loop: `microgrid` is imported (above), then one forked child a request.
    Building the parser imports the export and sweep sub-commands here, once; nothing is run,
    so no cache of the server's (weather.wind's turbine curves) is warm in the children."""
    microgrid.cli.build_parser()
    scratch = Path(tempfile.mkdtemp(prefix="bounded-cli-"))
    print("ready", flush=True)
    for line in sys.stdin:
        outcome = _serve_one(json.loads(line), scratch)
        print(json.dumps(asdict(outcome)), flush=True)


class BoundedCli:
    """Client: starts the server, sends requests, reads outcomes. Use as a context manager."""

    def __init__(self, time_s: float = 5.0, memory_mb: int = 500) -> None:
        self.time_s, self.memory_mb = time_s, memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def run(self, argv: list[str], cwd: Path | str = ROOT) -> Outcome:
        request = {"argv": argv, "cwd": str(cwd), "time_s": self.time_s}
        request["memory_mb"] = self.memory_mb
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return Outcome(**json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def __enter__(self) -> BoundedCli:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    serve()
