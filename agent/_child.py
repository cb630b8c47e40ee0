"""The sandbox's child process: confine itself with the kernel's mechanisms, then run cells.

Run as ``python -I _child.py CONTROL_FD RESULT_FD`` by :mod:`cytoql.agent.sandbox`. The
first line on the control pipe is the job (JSON); standard library only until the
confinement is in place (the data is loaded after). Each protection is applied, or its
failure recorded, before any untrusted code runs; the report goes to the result pipe
first, so the host knows what held even if the code crashes the process. Confinement
order: rlimits, network namespace, Landlock, seccomp.

Then the session loop: each further control line is one cell, run in the same namespace
(variables persist, as in a REPL). After a cell, everything it wrote to stdout and stderr
is flushed and followed by the job's marker on both, so the host can tell one step's
output from the next; then ``end`` (with an ``error`` traceback when it raised) goes to
the result pipe. The host sets the CPU limit of each step from outside (``prlimit``);
this process cannot raise its own limits (seccomp).
"""

import ctypes
import json
import os
import re
import resource
import struct
import sys
import traceback

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_OUT = None  # the result pipe


def _emit(kind, **fields):
    _OUT.write(json.dumps({"kind": kind, **fields}, default=repr) + "\n")
    _OUT.flush()


def _err():
    return os.strerror(ctypes.get_errno())


# ---------------------------------------------------------------------- rlimits
def _rlimits(limits, cpu_hard_s, report):
    mb = 1024 * 1024
    # the soft CPU limit covers the start-up; the host moves it before each step, under
    # a hard limit that bounds the whole session
    wanted = {"RLIMIT_CPU": (limits["cpu_s"], cpu_hard_s),
              "RLIMIT_AS": (limits["memory_mb"] * mb,) * 2,
              "RLIMIT_FSIZE": (limits["fsize_mb"] * mb,) * 2,
              "RLIMIT_NOFILE": (limits["nofile"],) * 2,
              "RLIMIT_NPROC": (limits["nproc"],) * 2,
              "RLIMIT_CORE": (0, 0)}
    for name, value in wanted.items():
        try:
            resource.setrlimit(getattr(resource, name), value)
            report[name] = "set"
        except (ValueError, OSError) as exc:
            report[name] = f"failed: {exc}"
    if os.getuid() == 0:
        report["RLIMIT_NPROC"] += " (not enforced for uid 0; seccomp blocks new processes)"


# ---------------------------------------------------------------------- network
CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000


def _no_network(report):
    flags = CLONE_NEWNET if os.getuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    if _libc.unshare(flags) == 0:
        report["network namespace"] = "active (empty: loopback down, no interfaces)"
    else:
        report["network namespace"] = f"failed: unshare: {_err()}"


# ---------------------------------------------------------------------- Landlock
_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446
# filesystem rights that modify something (reads stay allowed everywhere)
_LL_WRITE = (1 << 1) | sum(1 << b for b in range(4, 13))
_LL_REFER, _LL_TRUNCATE = 1 << 13, 1 << 14


def _landlock(scratch, report):
    abi = _libc.syscall(_LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        report["landlock"] = f"unavailable: {_err()}"
        return
    fs = _LL_WRITE | (_LL_REFER if abi >= 2 else 0) | (_LL_TRUNCATE if abi >= 3 else 0)
    net = 0b11 if abi >= 4 else 0  # TCP bind and connect, with no rule: denied
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets and signals outside the domain
    attr = struct.pack("<QQQ", fs, net, scoped)[:8 if abi < 4 else 16 if abi < 6 else 24]
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _libc.syscall(_LL_CREATE, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        report["landlock"] = f"failed: create_ruleset: {_err()}"
        return
    dirfd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
    rule = ctypes.create_string_buffer(struct.pack("<Qi", fs, dirfd), 12)
    ok = _libc.syscall(_LL_ADD, ctypes.c_int(ruleset), ctypes.c_int(1), rule, ctypes.c_uint32(0))
    os.close(dirfd)
    if ok != 0:
        report["landlock"] = f"failed: add_rule: {_err()}"
        return
    _libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, required to restrict self
    if _libc.syscall(_LL_RESTRICT, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
        report["landlock"] = f"failed: restrict_self: {_err()}"
        return
    os.close(ruleset)
    what = ["writes only under the scratch directory"]
    what += ["no TCP bind/connect"] if net else []
    what += ["no signals or abstract sockets outside the sandbox"] if scoped else []
    report["landlock"] = f"active (ABI {abi}): " + ", ".join(what)


# ---------------------------------------------------------------------- seccomp
_ARCH_X86_64 = 0xC000003E
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
_ERRNO = 0x00050000
_NR = {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "socket": 41, "setrlimit": 160,
       "prlimit64": 302}
_CLONE_THREAD, _AF_UNIX = 0x10000, 1


def _bpf():
    """Deny new processes (threads stay allowed), non-Unix sockets and changes to this
    process's own resource limits (reading them stays allowed), on x86-64."""
    ld_abs, jeq, jset, jge, ret = 0x20, 0x15, 0x45, 0x35, 0x06  # BPF opcodes (with K)
    eperm, enosys, eacces = _ERRNO | 1, _ERRNO | 38, _ERRNO | 13
    # (code, jt, jf, k); jumps are relative to the next instruction
    return [
        (ld_abs, 0, 0, 4),                        # 0 A = arch
        (jeq, 1, 0, _ARCH_X86_64),                # 1
        (ret, 0, 0, _KILL),                       # 2 another ABI: kill
        (ld_abs, 0, 0, 0),                        # 3 A = syscall number
        (jge, 0, 1, 0x40000000),                  # 4 x32 syscalls
        (ret, 0, 0, _KILL),                       # 5
        (jeq, 0, 1, _NR["fork"]),                 # 6
        (ret, 0, 0, eperm),                       # 7
        (jeq, 0, 1, _NR["vfork"]),                # 8
        (ret, 0, 0, eperm),                       # 9
        (jeq, 0, 1, _NR["clone3"]),               # 10 libc falls back to clone
        (ret, 0, 0, enosys),                      # 11
        (jeq, 0, 3, _NR["clone"]),                # 12 (not clone -> 16)
        (ld_abs, 0, 0, 16),                       # 13 A = flags (low word)
        (jset, 13, 0, _CLONE_THREAD),             # 14 a thread: allow (-> 28)
        (ret, 0, 0, eperm),                       # 15 a process: deny
        (jeq, 0, 1, _NR["setrlimit"]),            # 16
        (ret, 0, 0, eperm),                       # 17
        (jeq, 0, 5, _NR["prlimit64"]),            # 18 (not prlimit64 -> 24)
        (ld_abs, 0, 0, 32),                       # 19 A = new_limit pointer (low word)
        (jeq, 0, 2, 0),                           # 20 set: deny (-> 23)
        (ld_abs, 0, 0, 36),                       # 21 A = new_limit pointer (high word)
        (jeq, 5, 0, 0),                           # 22 NULL, a read: allow (-> 28)
        (ret, 0, 0, eperm),                       # 23
        (jeq, 0, 3, _NR["socket"]),               # 24 A is still the number
        (ld_abs, 0, 0, 16),                       # 25 A = domain
        (jeq, 1, 0, _AF_UNIX),                    # 26 -> 28 allow, else deny
        (ret, 0, 0, eacces),                      # 27
        (ret, 0, 0, _ALLOW),                      # 28
    ]


def _seccomp(report):
    import platform

    if platform.machine() != "x86_64":
        report["seccomp"] = f"unavailable: filter written for x86_64, not {platform.machine()}"
        return
    prog = _bpf()
    raw = b"".join(struct.pack("<HBBI", *ins) for ins in prog)
    filt = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("<HxxxxxxQ", len(prog), ctypes.addressof(filt))
    fbuf = ctypes.create_string_buffer(fprog, len(fprog))
    _libc.prctl(38, 1, 0, 0, 0)
    if _libc.syscall(317, ctypes.c_uint(1), ctypes.c_uint(0), fbuf) != 0:  # seccomp()
        report["seccomp"] = f"failed: {_err()}"
        return
    report["seccomp"] = ("active: no new processes (fork/vfork/clone), no non-Unix sockets, "
                         "no raising of its own resource limits")


# ---------------------------------------------------------------------- running code
class _Final(BaseException):
    """Raised by final_answer to stop the cell (not an Exception: `except` won't eat it)."""


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def final_answer(value, unit=""):
    """End the run with ``value`` (a number, string, list or dict) in ``unit``."""
    _emit("final", value=_jsonable(value), unit=str(unit))
    raise _Final


def _namespace(data):
    ns = {"__name__": "__main__", "final_answer": final_answer}
    if data:
        import numpy as np

        arrays = np.load(data["arrays"], allow_pickle=False)
        ns.update({k: arrays[k] for k in arrays.files})
        ns["np"] = np
    return ns


def _load_adata(ns, h5ad):
    # loaded before the first cell that names `adata`, once per session: importing
    # anndata is most of the start-up, and plain-array runs do not need it
    import anndata

    ns["adata"] = anndata.read_h5ad(h5ad)


def _end_output(marker):
    """Flush what the step wrote (Python and C buffers), then mark its end on both streams."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the code may have replaced or closed them
            pass
    _libc.fflush(None)
    os.write(1, marker)
    os.write(2, marker)


def main():
    global _OUT
    control = os.fdopen(int(sys.argv[1]), "r", encoding="utf-8")
    _OUT = os.fdopen(int(sys.argv[2]), "w", buffering=1, encoding="utf-8")
    job = json.loads(control.readline())
    _libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGKILL if the host dies mid-step
    os.chdir(job["scratch"])
    report = {}
    _rlimits(job["limits"], job["cpu_hard_s"], report)
    _no_network(report)
    _landlock(job["scratch"], report)
    _seccomp(report)
    _emit("protections", report=report)
    if job.get("probe"):
        return
    marker, data = job["marker"].encode(), job.get("data")
    ns = _namespace(data)
    h5ad = data.get("h5ad") if data else None  # until adata is loaded
    _end_output(marker)  # what the start-up printed is no step's output
    _emit("ready")
    for line in control:  # one cell a line; the end of the pipe ends the session
        code, end = json.loads(line)["code"], {}
        try:
            if h5ad and re.search(r"\badata\b", code):
                _load_adata(ns, h5ad)
                h5ad = None
            exec(compile(code, "<step>", "exec"), ns)
        except _Final:
            pass
        except BaseException as exc:  # noqa: BLE001 - every failure is an observation
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            # drop the frames of this runner: the model sees only its own code
            end = {"error": type(exc).__name__,
                   "text": "".join(t for t in tb if "_child.py" not in t)}
        _end_output(marker)
        _emit("end", **end)


if __name__ == "__main__":
    main()
