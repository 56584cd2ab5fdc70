"""Run a command and report what it left running, and nothing else on the machine.

    python tests/survivors.py REPORT TIMEOUT_S -- COMMAND...

This process makes itself a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so every process that
COMMAND starts stays its descendant however it is orphaned (a double fork, a new session, a parent
killed). When COMMAND has ended, its descendants still alive `GRACE_S` later are what it left behind:
only what it started, never another user's processes or another grading's running beside it (a test
that listed every uid-65534 process failed whenever one ran). REPORT gets, as JSON,
`{"pid": COMMAND's pid, "returncode", "timed_out", "survivors": [{"pid", "uid", "cmdline"}]}`; the
survivors are then killed. A COMMAND still running after TIMEOUT_S (a hang) is killed with everything
it started, and this exits 124; otherwise with COMMAND's exit status.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 2.0  # a process killed as COMMAND ended may take a moment to be gone
TIMED_OUT = 124


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def descendants(pid: int) -> list[int]:
    """The live (not zombie) descendants of `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    zombies = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                state, parent = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue  # ended while we looked
            children.setdefault(int(parent), []).append(int(entry))
            if state == "Z":
                zombies.add(int(entry))
    found, stack = [], list(children.get(pid, []))
    while stack:
        current = stack.pop()
        found.append(current)
        stack += children.get(current, [])
    return [p for p in found if p not in zombies]


def reap() -> None:
    """Collect the ended children this subreaper adopted, so they are not counted as alive."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def describe(pid: int) -> dict[str, object]:
    try:
        uid = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (OSError, StopIteration):
        uid, cmdline = -1, "(ended)"
    return {"pid": pid, "uid": uid, "cmdline": cmdline[:300]}


def kill_all(deadline_s: float = 10.0) -> None:
    """SIGKILL every descendant until none is left (a forking one may add more while we kill)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        reap()
        left = descendants(os.getpid())
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    report, timeout_s, command = Path(argv[1]), float(argv[2]), argv[argv.index("--") + 1:]
    become_subreaper()
    child = subprocess.Popen(command)
    try:
        returncode, timed_out = child.wait(timeout_s), False
    except subprocess.TimeoutExpired:
        kill_all()
        child.wait()
        returncode, timed_out = TIMED_OUT, True
    deadline = time.monotonic() + GRACE_S
    while True:
        reap()
        left = descendants(os.getpid())
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    survivors = [describe(pid) for pid in left]
    report.write_text(json.dumps({"pid": child.pid, "returncode": returncode, "timed_out": timed_out,
                                  "survivors": survivors}))
    kill_all()
    return returncode if returncode >= 0 else 128 - returncode


def command(report: Path, argv: list[str], timeout_s: float) -> list[str]:
    """The command line that runs `argv` under this observer, which writes its report to `report`."""
    return [sys.executable, __file__, str(report), str(timeout_s), "--", *map(str, argv)]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
