"""Run untrusted Python (the CodeAct route's code) in a confined, persistent child process.

A :class:`Session` (:meth:`Sandbox.session`) is one child process (``python -I``, cwd = a
scratch directory, a minimal environment with no API keys, its own session so a kill
reaches the whole group) that runs one cell per :meth:`Session.step` in the same
namespace, as a REPL does: variables, imports and loaded data persist, and each cell runs
once. The child confines itself before it reads any cell (``cytoql/agent/_child.py``):
rlimits (CPU, address space, file size, open files, processes, no core dumps), an empty
network namespace, Landlock (writes only in the scratch directory; no TCP; no signals
outside) and a seccomp filter (no new processes, no non-Unix sockets, no raising of its
own limits). What could not be applied on this kernel is reported in
:attr:`Execution.protections`, never silently skipped. The data goes in as files in a
read-only directory; the caller's AnnData is never touched.

Per step: the wall clock (the host kills the process group), the output kept (stdout and
stderr each), and CPU time: before each step the host sets the child's soft
``RLIMIT_CPU`` (``prlimit``) to the CPU it has used so far, rounded up to a whole second,
plus ``cpu_s``, so the step gets SIGXCPU past its own ``cpu_s``; a step that survives
SIGXCPU for one more second is killed by the host. The hard ``RLIMIT_CPU`` bounds the
whole process: (steps + 1) x (``cpu_s`` + 2) s. Per process, so per session: address
space, file size, open files, processes.

A step that ends the process (wall clock, a signal, ``os._exit``) restarts the session:
a new child re-runs the earlier successful steps quietly to restore their variables (so
their side effects happen again, their random draws differ), and the step's
:attr:`Execution.session` says so. A step that failed is never re-run.
"""

from __future__ import annotations

import json
import math
import os
import queue
import resource
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Execution", "Limits", "Sandbox", "Session", "probe"]

_CHILD = Path(__file__).with_name("_child.py")
_TICKS = os.sysconf("SC_CLK_TCK")
_POLL_S = 0.1  # how often the host checks a running step's CPU time
_GRACE_S = 5.0  # for output the child has already written to arrive
_EVENT_BYTES = 10 * 1024 * 1024  # one result-pipe line (a final answer) at most


@dataclass(frozen=True)
class Limits:
    """Resource limits of one step (and, for memory and files, of its session)."""

    wall_s: float = 60.0
    cpu_s: int = 30
    memory_mb: int = 4096
    nproc: int = 64
    fsize_mb: int = 64
    nofile: int = 256
    output_chars: int = 20_000  # bytes of stdout (and of stderr) kept per step


@dataclass
class Execution:
    """What one step did: ``status`` is ``ok``, ``error``, ``timeout``, ``killed`` or ``exit``.

    ``session`` says what happened to the session around the step (a restart after the
    process ended, the earlier steps re-run), for the model to read.
    """

    status: str
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    final: dict | None = None
    protections: dict = field(default_factory=dict)
    wall_s: float = 0.0
    session: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def observation(self) -> str:
        """The text the model sees: output, then what went wrong, then the session."""
        parts = [self.stdout.rstrip()] if self.stdout.strip() else []
        if self.error:
            parts.append(self.error.rstrip())
        elif self.status != "ok" and self.stderr.strip():
            parts.append(self.stderr.rstrip())
        if self.final is not None:
            parts.append(f"final_answer({self.final['value']!r}, {self.final['unit']!r})")
        if self.session:
            parts.append(self.session)
        return "\n".join(parts) or "(no output)"


_SIGNALS = {signal.SIGSEGV: "segmentation fault", signal.SIGXCPU: "CPU time limit exceeded",
            signal.SIGKILL: "killed", signal.SIGXFSZ: "file size limit exceeded",
            signal.SIGABRT: "aborted", signal.SIGBUS: "bus error"}


def _env(scratch: Path) -> dict:
    """A minimal environment: no API keys, nothing from the host's shell."""
    s = str(scratch)
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": s, "TMPDIR": s, "LANG": "C.UTF-8",
            "NUMBA_CACHE_DIR": os.path.join(s, ".numba"), "MPLCONFIGDIR": s,
            "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


class _Reader(threading.Thread):
    """Reads one pipe of the child into a small queue of items.

    The queue is bounded, so a child that floods a pipe is slowed down (its writes block)
    instead of filling the host's memory.
    """

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.items = pipe, queue.Queue(maxsize=8)
        self.start()

    def next(self, timeout: float):
        """The next item, or None when none came within ``timeout`` seconds."""
        try:
            return self.items.get(timeout=timeout)
        except queue.Empty:
            return None

    def finish(self) -> None:
        """After the child has ended: let the thread reach the end of the pipe, close it."""
        deadline = time.monotonic() + _GRACE_S
        while self.is_alive() and time.monotonic() < deadline:
            while self.next(0) is not None:  # unblock a full queue
                pass
            self.join(_POLL_S)
        self.pipe.close()


class _Stream(_Reader):
    """stdout or stderr, one item per step (the text up to ``marker``), each cut at ``cap``
    bytes; at the end of the pipe, what is left is the last step's."""

    def __init__(self, pipe, cap: int, marker: bytes):
        self.cap, self.marker = cap, marker
        self._kept, self._size, self._dropped = [], 0, 0
        super().__init__(pipe)

    def run(self):
        pending, hold = b"", len(self.marker) - 1
        while chunk := self.pipe.read1(65536):
            pending += chunk
            while (i := pending.find(self.marker)) >= 0:
                self._keep(pending[:i])
                self._close_step()
                pending = pending[i + len(self.marker):]
            cut = max(0, len(pending) - hold)  # the tail may be the start of a marker
            self._keep(pending[:cut])
            pending = pending[cut:]
        self._keep(pending)
        self._close_step()

    def _keep(self, data: bytes) -> None:
        room = max(0, self.cap - self._size)
        self._kept.append(data[:room])
        self._size += min(room, len(data))
        self._dropped += max(0, len(data) - room)

    def _close_step(self) -> None:
        text = b"".join(self._kept).decode("utf-8", "replace")
        if self._dropped:
            text += f"\n[output cut: {self._dropped:,} more bytes]"
        self._kept, self._size, self._dropped = [], 0, 0
        self.items.put(text)


class _Events(_Reader):
    """The result pipe: one JSON object a line; ``{"kind": "eof"}`` at its end."""

    def run(self):
        skipping = False  # the rest of an overlong line
        while line := self.pipe.readline(_EVENT_BYTES):
            whole = line.endswith(b"\n")
            if whole and not skipping:
                try:
                    event = json.loads(line)
                except ValueError:
                    event = None  # the code wrote to the pipe itself; ignore what is not ours
                if (isinstance(event, dict) and isinstance(event.get("kind"), str)
                        and event["kind"] != "eof"):
                    self.items.put(event)
            skipping = not whole
        self.items.put({"kind": "eof"})


class _Child:
    """One confined child process, given one cell at a time (the host's side of it)."""

    def __init__(self, box: Sandbox, steps: int, *, probe: bool = False):
        self.box, self.limits = box, box.limits
        self.cpu_hard = (steps + 1) * (self.limits.cpu_s + 2)  # start-up and each step, + slack
        marker = f"\x1e[cytoql step end {secrets.token_hex(8)}]\x1e"
        ctl_r, ctl_w = os.pipe()
        res_r, res_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(_CHILD), str(ctl_r), str(res_w)], cwd=box.scratch,
            env=_env(box.scratch), pass_fds=(ctl_r, res_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        os.close(ctl_r)
        os.close(res_w)
        box._children.add(self)
        os.set_blocking(ctl_w, False)
        self._control = ctl_w
        self._events = _Events(os.fdopen(res_r, "rb"))
        self._out = _Stream(self.proc.stdout, self.limits.output_chars, marker.encode())
        self._err = _Stream(self.proc.stderr, self.limits.output_chars, marker.encode())
        self.protections: dict = {}
        self.failed: Execution | None = None  # why it did not start
        job = {"scratch": str(box.scratch), "limits": asdict(self.limits),
               "cpu_hard_s": self.cpu_hard, "data": box.data_files, "probe": probe,
               "marker": marker}
        deadline = time.monotonic() + self.limits.wall_s
        self._send(job, deadline)
        _, _, why = self._wait("protections" if probe else "ready", self.limits.cpu_s, deadline)
        if why is not None:
            self.failed = failed = self._execution(None, None, why)
            failed.error = ("the sandbox process failed while starting: "
                            + failed.error.replace(" before the step finished", ""))
            if failed.stderr.strip():
                failed.error += "\n" + failed.stderr.strip()[-2000:]
        elif not probe:  # what it printed while starting is nobody's output
            self._out.next(_GRACE_S)
            self._err.next(_GRACE_S)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, code: str) -> Execution:
        """Run one cell; every failure comes back as an :class:`Execution`, never raised."""
        while (event := self._events.next(0)) is not None:  # written between steps
            if event["kind"] == "eof":
                self._events.items.put(event)
                break
        soft = min(math.ceil(self._cpu()) + self.limits.cpu_s, self.cpu_hard)
        try:
            resource.prlimit(self.proc.pid, resource.RLIMIT_CPU, (soft, self.cpu_hard))
        except OSError as exc:
            self.stop()
            return Execution(status="error", protections=self.protections,
                             error=f"the step was not run: its CPU limit could not be set "
                                   f"({exc}), so the process was ended")
        deadline = time.monotonic() + self.limits.wall_s
        self._send({"code": code}, deadline)
        return self._execution(*self._wait("end", soft, deadline))

    def _send(self, message: dict, deadline: float) -> None:
        """Write one control line, giving up at ``deadline`` or when the child has ended
        (then :meth:`_wait` sees the timeout or the end)."""
        data = (json.dumps(message) + "\n").encode()
        poller = select.poll()  # not select(): no limit on the descriptor's number
        poller.register(self._control, select.POLLOUT)
        while data and poller.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            try:
                data = data[os.write(self._control, data):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                return

    def _wait(self, kind: str, cpu_soft: int, deadline: float):
        """Events until ``kind``: ``(final, that event, why not)``; ``why`` is None when
        ``kind`` came, else ``ended``, ``timeout`` or ``cpu`` (SIGXCPU survived)."""
        final = None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return final, None, "timeout"
            if self._cpu() > cpu_soft + 1:
                return final, None, "cpu"
            event = self._events.next(min(left, _POLL_S))
            if event is None:
                continue
            if event["kind"] == "eof":
                return final, None, "ended"
            if event["kind"] == "protections" and not self.protections:
                self.protections = event.get("report", {})
            if event["kind"] == "final":
                final = {"value": event.get("value"), "unit": event.get("unit", "")}
            if event["kind"] == kind:
                return final, event, None

    def _cpu(self) -> float:
        """CPU seconds used by the child (all its threads), read from /proc."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime

    def _execution(self, final, end, why) -> Execution:
        """The step's record; the process is ended unless the step ended normally."""
        out = err = None
        if why is None:
            out, err = self._out.next(_GRACE_S), self._err.next(_GRACE_S)
            if out is not None and err is not None:
                ex = Execution("ok", out, err, final=final, protections=self.protections)
                if "error" in end:
                    ex.status, ex.error = "error", end.get("text", "")
                return ex
            why = "lost"  # no end marker: the code redirected its own stdout or stderr
        self._end(_GRACE_S if why == "ended" else 0)
        # what is left on a pipe now is this step's
        out = self._out.next(_GRACE_S) or "" if out is None else out
        err = self._err.next(_GRACE_S) or "" if err is None else err
        self.stop()
        ex = Execution("killed", out, err, final=final, protections=self.protections)
        code = self.proc.returncode
        if why == "timeout":
            ex.status = "timeout"
            ex.error = (f"TimeoutError: the code ran past the wall-clock limit of "
                        f"{self.limits.wall_s:g} s and was killed")
        elif why == "cpu":
            ex.error = (f"the process was killed: CPU time limit exceeded (limit: "
                        f"{self.limits.cpu_s} s of CPU; it did not stop at SIGXCPU)")
        elif why == "lost":
            ex.status = "exit"
            ex.error = ("the step's output could not be read to its end (was stdout or stderr "
                        "closed or redirected?), so the process was ended")
        elif code < 0:
            sig = signal.Signals(-code)
            what = _SIGNALS.get(sig, sig.name)
            if sig is signal.SIGXCPU:
                what += f" (limit: {self.limits.cpu_s} s of CPU)"
            ex.error = f"the process was killed by {sig.name}: {what}"
        else:
            ex.status = "exit"
            ex.error = f"the process exited with status {code} before the step finished"
        return ex

    def _end(self, grace: float = 0) -> None:
        """Kill the process group unless the process exits within ``grace`` seconds (a
        child whose result pipe has closed is on its way out: let its own status show)."""
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self) -> None:
        """End the process if it still runs, and release its pipes (idempotent)."""
        self._end()
        if self._control is not None:
            os.close(self._control)
            self._control = None
        for reader in (self._out, self._err, self._events):
            reader.finish()
        self.box._children.discard(self)


def _steps(n: int) -> str:
    return f"{n} earlier successful step" + ("s" if n != 1 else "")


class Session:
    """A persistent sandbox session: one child keeps the variables from step to step.

    Made by :meth:`Sandbox.session`; use it as a context manager (or call :meth:`close`),
    so that its process never outlives it.
    """

    def __init__(self, box: Sandbox, steps: int):
        self._box, self._steps = box, steps
        self._child: _Child | None = None
        self._history: list[str] = []  # the cells whose variables the live child holds

    def step(self, code: str) -> Execution:
        """Run one cell in the session; every failure comes back as an :class:`Execution`.

        When the cell ends the process, a new one is started and the earlier successful
        cells are re-run quietly in it before this returns; ``Execution.session`` says so.
        """
        start = time.monotonic()
        notes = []
        if self._child is None or not self._child.alive:
            restart = self._child is not None or bool(self._history)
            failed, restored = self._start()
            if failed is not None:
                failed.wall_s = time.monotonic() - start
                return failed
            if restart:
                notes.append(f"Before this step the session was restarted in a new process"
                             f"{restored}.")
        ex = self._child.run(code)
        if ex.ok:
            self._history.append(code)
        if not self._child.alive:
            failed, restored = self._start()
            notes.append(f"A new sandbox process could not be started ({failed.error}); the "
                         f"next step tries again." if failed is not None else
                         f"The session was restarted in a new process"
                         f"{restored or ' (no earlier variables to restore)'}.")
        ex.session = " ".join(notes)
        ex.wall_s = time.monotonic() - start
        return ex

    def _start(self):
        """A new child with the history re-run in it: ``(failure, what was restored)``."""
        if self._child is not None:
            self._child.stop()
        self._child = _Child(self._box, self._steps)
        if self._child.failed is not None:
            failed, self._child = self._child.failed, None
            return failed, ""
        cells, self._history, failed = self._history, [], []
        steps, their = _steps(len(cells)), "its" if len(cells) == 1 else "their"
        for cell in cells:
            ex = self._child.run(cell)
            if not self._child.alive:
                self._child = None
                return None, (f", but re-running the {steps} to restore {their} variables "
                              f"ended it too ({ex.error.strip()}); the next step starts in a "
                              f"fresh process without them")
            if ex.ok:
                self._history.append(cell)
            else:
                failed.append(ex)
        if not cells:
            return None, ""
        if failed:
            first = failed[0].error.strip().splitlines()[-1]
            return None, (f"; re-running the {steps} to restore {their} variables failed "
                          f"for {len(failed)} (first: {first}), so some variables may be "
                          f"missing")
        return None, (f"; the variables from the {steps} were restored by re-running "
                      f"{'it' if len(cells) == 1 else 'them'} (output not shown)")

    def close(self) -> None:
        """End the session's process."""
        if self._child is not None:
            self._child.stop()
            self._child = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Sandbox:
    """A scratch directory, the data (read-only) and sessions that run code on them.

    Parameters
    ----------
    adata : AnnData, optional
        Written to ``data/data.h5ad`` (read-only) and loaded in the child as ``adata``;
        plain arrays ``xy`` (µm), ``cell_type``, ``fov`` and ``obs_names`` come in
        ``data/arrays.npz``. The caller's object is only read.
    limits : Limits
    data_options : dict, optional
        Passed to ``Sample.from_anndata`` for the plain arrays (type_key, fov_key, ...).
    """

    def __init__(self, adata=None, *, limits: Limits | None = None, data_options=None):
        self.limits = limits or Limits()
        self.root = Path(tempfile.mkdtemp(prefix="cytoql-sandbox-"))
        self.scratch = self.root / "scratch"
        self.scratch.mkdir()
        self._children: set[_Child] = set()
        self.data_files = None
        if adata is not None:
            self.data_files = self._write_data(adata, data_options or {})

    def _write_data(self, adata, options) -> dict:
        import numpy as np

        from cytoql.data import Sample

        data = self.root / "data"
        data.mkdir()
        sample = Sample.from_anndata(adata, **options)
        fov = np.empty(sample.n_cells, dtype=object)
        for f in sample.fovs:
            fov[f.index] = f.name
        arrays = {"xy": np.asarray(sample.xy), "obs_names": np.asarray(sample.obs_names, str),
                  "fov": fov.astype(str)}
        if sample.type_key is not None:
            arrays["cell_type"] = np.asarray(adata.obs[sample.type_key]).astype(str)
        np.savez(data / "arrays.npz", **arrays)
        adata.write_h5ad(data / "data.h5ad")
        for path in data.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        data.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH
                   | stat.S_IXOTH)
        return {"arrays": str(data / "arrays.npz"), "h5ad": str(data / "data.h5ad")}

    def session(self, steps: int) -> Session:
        """A persistent session for up to ``steps`` cells (they size its hard CPU limit)."""
        return Session(self, steps)

    def run(self, cells: str | list[str]) -> Execution:
        """Run ``cells`` in a fresh session and return the last one's :class:`Execution`
        (the earlier ones run quietly: their output and outcome are not reported)."""
        cells = [cells] if isinstance(cells, str) else list(cells)
        with self.session(len(cells)) as session:
            for cell in cells[:-1]:
                session.step(cell)
            return session.step(cells[-1])

    def close(self) -> None:
        """End every process still running, remove the scratch and data directories."""
        for child in list(self._children):
            child.stop()
        for path in (self.root / "data", self.root):
            if path.exists():
                path.chmod(stat.S_IRWXU)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def probe() -> dict:
    """Which protections this kernel applies (starts a confined child that runs nothing)."""
    with Sandbox(limits=Limits(wall_s=20)) as box:
        child = _Child(box, 1, probe=True)
        child.stop()
        return child.protections
