"""Run untrusted Python (the CodeAct route's code) in a confined child process.

Each :meth:`Sandbox.run` starts a fresh child (``python -I``, cwd = a scratch directory,
a minimal environment with no API keys, its own session so a timeout kills the whole
group). The child confines itself before running anything it was given
(``cytoql/agent/_child.py``): rlimits (CPU, address space, file size, open files,
processes, no core dumps), an empty network namespace, Landlock (writes only in the
scratch directory; no TCP; no signals outside) and a seccomp filter (no new processes, no
non-Unix sockets). What could not be applied on this kernel is reported in
:attr:`Execution.protections`, never silently skipped. The data goes in as files in a
read-only directory; the caller's AnnData is never touched.
"""

from __future__ import annotations

import json
import os
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

__all__ = ["Execution", "Limits", "Sandbox", "probe"]

_CHILD = Path(__file__).with_name("_child.py")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    wall_s: float = 60.0
    cpu_s: int = 30
    memory_mb: int = 4096
    nproc: int = 64
    fsize_mb: int = 64
    nofile: int = 256
    output_chars: int = 20_000  # bytes of stdout (and of stderr) kept


@dataclass
class Execution:
    """What one run did: ``status`` is ``ok``, ``error``, ``timeout``, ``killed`` or ``exit``."""

    status: str
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    final: dict | None = None
    protections: dict = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def observation(self) -> str:
        """The text the model sees: output, then what went wrong."""
        parts = [self.stdout.rstrip()] if self.stdout.strip() else []
        if self.error:
            parts.append(self.error.rstrip())
        elif self.status != "ok" and self.stderr.strip():
            parts.append(self.stderr.rstrip())
        if self.final is not None:
            parts.append(f"final_answer({self.final['value']!r}, {self.final['unit']!r})")
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


class _Capped(threading.Thread):
    """Reads a pipe to its end, keeping the first ``cap`` characters."""

    def __init__(self, pipe, cap: int):
        super().__init__(daemon=True)
        self.pipe, self.cap, self.kept, self.dropped = pipe, cap, [], 0
        self.size = 0
        self.start()

    def run(self):
        while chunk := self.pipe.read(65536):
            room = self.cap - self.size
            if room > 0:
                self.kept.append(chunk[:room])
                self.size += min(room, len(chunk))
            self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        text = b"".join(self.kept).decode("utf-8", "replace")
        if self.dropped:
            text += f"\n[output cut: {self.dropped:,} more bytes]"
        return text


class Sandbox:
    """A scratch directory, the data (read-only) and a way to run code on them.

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

    def run(self, cells: str | list[str], *, probe: bool = False) -> Execution:
        """Run ``cells`` (earlier ones quietly, the last one with its output) in a fresh,
        confined child; every failure comes back as an :class:`Execution`, never raised."""
        cells = [cells] if isinstance(cells, str) else list(cells)
        job = {"scratch": str(self.scratch), "limits": asdict(self.limits), "cells": cells,
               "data": self.data_files, "probe": probe}
        job_file = self.root / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        job_file.chmod(stat.S_IRUSR)
        read_fd, write_fd = os.pipe()
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-I", str(_CHILD), str(job_file), str(write_fd)],
                                cwd=self.scratch, env=_env(self.scratch), pass_fds=(write_fd,),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        os.close(write_fd)
        out = _Capped(proc.stdout, self.limits.output_chars)
        err = _Capped(proc.stderr, self.limits.output_chars)
        result = _Capped(os.fdopen(read_fd, "rb"), 10 * 1024 * 1024)
        timed_out = False
        try:
            proc.wait(timeout=self.limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for reader in (out, err, result):
            reader.join(timeout=5)
        job_file.unlink()
        return self._execution(proc.returncode, timed_out, out.text(), err.text(),
                               result.text(), time.monotonic() - start)

    def _execution(self, code, timed_out, stdout, stderr, result, wall) -> Execution:
        events = []
        for line in result.splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the code wrote to the pipe itself; ignore what is not ours
        kinds = {e.get("kind"): e for e in events}
        ex = Execution(status="ok", stdout=stdout, stderr=stderr, wall_s=wall,
                       protections=kinds.get("protections", {}).get("report", {}))
        if "final" in kinds:
            final = kinds["final"]
            ex.final = {"value": final.get("value"), "unit": final.get("unit", "")}
        if timed_out:
            ex.status = "timeout"
            ex.error = (f"TimeoutError: the code ran past the wall-clock limit of "
                        f"{self.limits.wall_s:g} s and was killed")
        elif code < 0:
            ex.status = "killed"
            sig = signal.Signals(-code)
            why = _SIGNALS.get(sig, sig.name)
            if sig is signal.SIGXCPU:
                why += f" (limit: {self.limits.cpu_s} s of CPU)"
            ex.error = f"the process was killed by {sig.name}: {why}"
        elif "error" in kinds:
            ex.status = "error"
            ex.error = kinds["error"]["text"]
        elif "done" not in kinds and "final" not in kinds:
            ex.status = "exit"
            ex.error = f"the process exited with status {code} before the step finished"
        return ex

    def close(self) -> None:
        """Remove the scratch and data directories."""
        for path in (self.root / "data", self.root):
            if path.exists():
                path.chmod(stat.S_IRWXU)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def probe() -> dict:
    """Which protections this kernel applies (runs an empty confined child)."""
    with Sandbox(limits=Limits(wall_s=20)) as box:
        return box.run("", probe=True).protections
