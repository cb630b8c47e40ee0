"""Ctrl-C stops a long query: the kernels run in time-sized slices and a pending
SIGINT raises KeyboardInterrupt between them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

# A quadratic query (every cell is within the radius of every other): about a minute
# on 200k cells, so it is surely still running when the signal comes. The small query
# first compiles (or loads) every kernel the big one needs, which no signal interrupts.
SCRIPT = """
import cytoql
from cytoql.datasets import synthetic
text = "mean(shannon(cells within 100000 um))"
cytoql.query(synthetic(500, seed=0, fov_size=(300.0, 300.0)), text)
big = synthetic(200_000, seed=0, fov_size=(1000.0, 1000.0))
print("ready", flush=True)
cytoql.query(big, text, max_work=None)  # past the work guard on purpose
print("finished", flush=True)
"""


def test_sigint_stops_a_long_query(tmp_path):
    proc = subprocess.Popen([sys.executable, "-P", "-c", SCRIPT], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        # unsliced, the query would run on for a minute and this would time out
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert "finished" not in out
    assert err.rstrip().endswith("KeyboardInterrupt"), err[-2000:]
    assert proc.returncode != 0
