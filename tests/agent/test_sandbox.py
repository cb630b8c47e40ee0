"""Every fault comes back as an observation and the host is unharmed."""

from __future__ import annotations

import os
import socket

import pytest

from cytoql.agent.sandbox import Limits, Sandbox, probe

# a generous wall clock: under load (CI, shared machines) 1 s of CPU can take several
# seconds, and the CPU limit must be the one that fires in the loop test
FAST = Limits(wall_s=30, cpu_s=1, memory_mb=512, output_chars=2000)


@pytest.fixture
def box():
    with Sandbox(limits=FAST) as sandbox:
        yield sandbox


def _host_alive():
    assert os.getpid() > 0 and sum(range(10)) == 45


def test_probe_reports_each_protection():
    report = probe()
    assert set(report) >= {"RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE",
                           "RLIMIT_NPROC", "RLIMIT_CORE", "network namespace", "landlock",
                           "seccomp"}
    assert all(v.startswith(("set", "active", "failed", "unavailable")) for v in report.values())


def test_ok_and_final_answer(box):
    run = box.run(["x = 20", "print(x + 1)\nfinal_answer(x * 2, 'um')"])
    assert run.ok and run.stdout == "21\n" and run.final == {"value": 40, "unit": "um"}


def test_infinite_loop_hits_the_cpu_limit(box):
    run = box.run("while True:\n    pass")
    assert run.status == "killed" and "SIGXCPU" in run.observation()
    assert "limit: 1 s of CPU" in run.observation()
    _host_alive()


def test_sleeping_forever_hits_the_wall_clock():
    with Sandbox(limits=Limits(wall_s=2, cpu_s=1)) as box:
        run = box.run("import time\ntime.sleep(60)")
    assert run.status == "timeout" and "wall-clock limit of 2 s" in run.observation()


def test_fork_bomb_is_bounded(box):
    run = box.run("import os\nwhile True:\n    os.fork()")
    assert run.status == "error"
    # seccomp refuses new processes (EPERM); without it RLIMIT_NPROC (EAGAIN) bounds them
    assert "PermissionError" in run.observation() or "BlockingIOError" in run.observation()
    _host_alive()


def test_segfault(box):
    run = box.run("import ctypes\nctypes.string_at(0)")
    assert run.status == "killed" and "SIGSEGV: segmentation fault" in run.observation()
    _host_alive()


def test_memory_limit(box):
    run = box.run("x = bytearray(8 * 1024**3)")
    assert run.status == "error" and "MemoryError" in run.observation()


def test_os_exit(box):
    run = box.run("import os\nos._exit(3)")
    assert run.status == "exit" and "exited with status 3" in run.observation()


def test_huge_print_is_cut(box):
    run = box.run("print('x' * 10**7)")
    assert run.ok and len(run.stdout) < 2100 and "[output cut: 9,998,001 more bytes]" in run.stdout


def test_socket_connect_is_blocked(box):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        run = box.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 1)")
    finally:
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):  # nothing reached the host's listener
            server.accept()
        server.close()
    assert run.status == "error"
    assert any(e in run.observation() for e in ("PermissionError", "OSError", "Network"))


def test_write_outside_scratch_is_refused(box, tmp_path):
    target = tmp_path / "escaped.txt"
    run = box.run(f"open({str(target)!r}, 'w').write('x')")
    assert run.status == "error" and "PermissionError" in run.observation()
    assert not target.exists()
    inside = box.run("open('mine.txt', 'w').write('ok')\nprint(open('mine.txt').read())")
    assert inside.ok and inside.stdout == "ok\n"


def test_api_keys_are_absent(box, monkeypatch):
    monkeypatch.setenv("CYTOQL_LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    run = box.run("import os\nprint(sorted(k for k in os.environ if 'KEY' in k))")
    assert run.ok and run.stdout == "[]\n"


def test_data_is_read_only(kidney):
    with Sandbox(kidney, limits=Limits(wall_s=60, cpu_s=60)) as box:
        run = box.run("import os\nprint(adata.n_obs, xy.shape, cell_type[0])\n"
                      "open(os.path.join(os.path.dirname(" + repr(box.data_files["h5ad"]) +
                      "), 'x.npz'), 'w')")
        assert "6555 (6555, 2)" in run.stdout and "PermissionError" in run.observation()


# ---------------------------------------------------------------------- sessions
def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_step_runs_once(box):
    with box.session(3) as session:
        session.step("open('log.txt', 'a').write('step 1\\n')")
        session.step("x = 2")
        run = session.step("print(open('log.txt').read().count('step 1'))")
    assert run.ok and run.stdout == "1\n"


def test_variables_persist_without_re_running(box):
    with box.session(3) as session:
        first = session.step("import os\nimport numpy as np\n"
                             "draw = np.random.default_rng().random()\n"
                             "pid = os.getpid()\nprint(repr(draw))")
        session.step("y = 1")
        third = session.step("print(repr(draw), pid == os.getpid())")
    assert third.ok and third.stdout == f"{first.stdout.strip()} True\n"


def test_a_crash_restarts_the_session_and_restores_the_variables(box):
    with box.session(4) as session:
        session.step("a = 41\nopen('runs.txt', 'a').write('ok\\n')")
        failed = session.step("open('runs.txt', 'a').write('failed\\n')\nraise ValueError('no')")
        crash = session.step("import ctypes\nctypes.string_at(0)")
        after = session.step("text = open('runs.txt').read()\n"
                             "print(a + 1, text.count('ok'), text.count('failed'))")
    assert failed.status == "error" and not failed.session
    assert crash.status == "killed" and "SIGSEGV" in crash.observation()
    assert "restarted in a new process" in crash.observation()
    assert "variables from the 1 earlier successful step were restored" in crash.observation()
    # the successful step ran again to restore `a`; the failed one was not re-run
    assert after.ok and after.stdout == "42 2 1\n" and not after.session


def test_a_restore_that_fails_is_told(box):
    once = "import os\nif os.path.exists('once'):\n    raise RuntimeError('ran before')\n" \
           "open('once', 'w').close()\nx = 1"
    with box.session(3) as session:
        session.step(once)
        crash = session.step("import os\nos._exit(1)")
        after = session.step("print(x)")
    assert "failed for 1 (first: RuntimeError: ran before)" in crash.observation()
    assert "some variables may be missing" in crash.observation()
    assert after.status == "error" and "NameError" in after.observation()


def test_a_timeout_restarts_the_session():
    with Sandbox(limits=Limits(wall_s=2, cpu_s=1)) as box, box.session(3) as session:
        session.step("x = 7")
        slow = session.step("import time\ntime.sleep(60)")
        after = session.step("print(x)")
    assert slow.status == "timeout" and "wall-clock limit of 2 s" in slow.observation()
    assert "restarted in a new process" in slow.observation()
    assert after.ok and after.stdout == "7\n"


def test_os_exit_without_earlier_steps_says_nothing_was_restored(box):
    with box.session(2) as session:
        run = session.step("import os\nos._exit(3)")
        after = session.step("print('fresh')")
    assert run.status == "exit" and "no earlier variables to restore" in run.observation()
    assert after.ok and after.stdout == "fresh\n"


def test_a_memory_error_keeps_the_session(box):
    with box.session(3) as session:
        session.step("import os\nx = 1\npid = os.getpid()")
        big = session.step("y = bytearray(8 * 1024**3)")
        after = session.step("print(x, pid == os.getpid())")
    assert big.status == "error" and "MemoryError" in big.observation() and not big.session
    assert after.ok and after.stdout == "1 True\n"


_BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass"


def test_the_cpu_limit_holds_per_step(box):
    with box.session(3) as session:
        # 1.2 s in all: more than one step's limit, so it must be counted per step
        assert session.step(_BURN).ok and session.step(_BURN).ok
        run = session.step("while True:\n    pass")
    assert run.status == "killed" and "SIGXCPU" in run.observation()
    assert "limit: 1 s of CPU" in run.observation()


def test_ignoring_sigxcpu_does_not_escape_the_cpu_limit(box):
    run = box.run("import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\n"
                  "while True:\n    pass")
    assert run.status == "killed" and "CPU time limit exceeded" in run.observation()


def test_the_code_cannot_raise_its_own_limits(box):
    run = box.run("import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU)[1] > 0)\n"
                  "resource.setrlimit(resource.RLIMIT_CPU, (10**6, 10**6))")
    if not run.protections["seccomp"].startswith("active"):
        pytest.skip("no seccomp filter on this machine")
    assert run.status == "error" and run.stdout == "True\n"  # reading the limits works
    assert "ValueError" in run.observation() or "PermissionError" in run.observation()


def test_output_stays_with_its_step(box):
    with box.session(3) as session:
        huge = session.step("import sys\nprint('x' * 10**7)\nsys.stdout.write('no newline')\n"
                            "sys.stderr.write('warned')")
        quiet = session.step("y = 1")
        run = session.step("print('ok')")
    assert "[output cut:" in huge.stdout and huge.stderr == "warned"
    assert quiet.stdout == quiet.stderr == "" and quiet.observation() == "(no output)"
    assert run.stdout == "ok\n" and run.stderr == ""


def test_no_process_outlives_its_session(box):
    with pytest.raises(RuntimeError), box.session(3) as session:
        pid = int(session.step("import os\nprint(os.getpid())").stdout)
        raise RuntimeError("the host fails mid-run")
    assert _gone(pid)
    left_open = box.session(2)
    pid = int(left_open.step("import os\nprint(os.getpid())").stdout)
    box.close()  # closing the sandbox ends a session that was never closed
    assert _gone(pid)
