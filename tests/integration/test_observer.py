"""tests/survivors.py, the observer the system tests run gradings under: it reports what its command
left running, however orphaned, and nothing that runs beside it."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests import survivors


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_observer_reports_what_its_command_left_and_nothing_beside_it(tmp_path):
    bystander = subprocess.Popen(["sleep", "60"])  # not started by the observed command
    try:
        # An orphan in a session of its own (double fork + setsid), and one ended in time.
        done = subprocess.run(survivors.command(tmp_path / "seen.json", [
            "sh", "-c", "(setsid sleep 60 &); (sleep 0.1 &); exit 3"], 60), capture_output=True, text=True)
        seen = json.loads((tmp_path / "seen.json").read_text())
        assert done.returncode == 3 and seen["returncode"] == 3 and not seen["timed_out"]
        assert [entry["cmdline"] for entry in seen["survivors"]] == ["sleep 60"]
        assert seen["survivors"][0]["pid"] != bystander.pid
        assert not alive(seen["survivors"][0]["pid"])  # killed once reported
        assert alive(bystander.pid)
    finally:
        bystander.send_signal(signal.SIGKILL)
        bystander.wait()


def test_the_observer_stops_a_command_that_hangs_with_all_it_started(tmp_path):
    done = subprocess.run(survivors.command(tmp_path / "seen.json", [
        sys.executable, "-c", "import os, time; os.fork(); time.sleep(60)"], 1), capture_output=True, text=True)
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert done.returncode == survivors.TIMED_OUT and seen["timed_out"] and seen["survivors"] == []
