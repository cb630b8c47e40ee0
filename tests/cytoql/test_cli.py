"""The command line: info, demo, exit codes and messages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cytoql.cli import main
from cytoql.datasets import cosmx_kidney


@pytest.fixture(scope="module")
def kidney_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "kidney.h5ad"
    cosmx_kidney().write_h5ad(path)
    return str(path)


def test_info_prints_the_schema(kidney_path, capsys):
    assert main(["info", kidney_path]) == 0
    out = capsys.readouterr().out
    assert "6,555 cells × 11 genes" in out
    assert "cell types: 26 in obs['cell_type']" in out
    assert "  18     3,059 cells" in out
    assert "window of FOV '18': bounding box of its cells" in out


def test_info_with_an_unknown_label_column_exits_1(kidney_path, capsys):
    assert main(["info", kidney_path, "--type-key", "celltype"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cytoql: error: obs has no label column (type_key) 'celltype'; "
                          "did you mean \"cell_type\"?")


def test_missing_file_exits_2(capsys):
    assert main(["info", "no/such/file.h5ad"]) == 2
    assert capsys.readouterr().err == "cytoql: error: no such file: no/such/file.h5ad\n"


def test_unreadable_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.h5ad"
    bad.write_text("not hdf5")
    assert main(["info", str(bad)]) == 2
    assert f"cytoql: error: cannot read {bad} as AnnData (.h5ad):" in capsys.readouterr().err


def test_directory_is_not_a_file(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    assert "is a directory, not an .h5ad file" in capsys.readouterr().err


def test_demo_runs_on_bundled_data(capsys):
    assert main(["demo"]) == 0
    assert "CosMx kidney" in capsys.readouterr().out


def test_console_script_is_installed(tmp_path):
    out = subprocess.run([sys.executable, "-m", "cytoql.cli", "--version"], cwd=tmp_path,
                         capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().startswith("cytoql ")


def test_ctrl_c_exits_130_with_one_line(kidney_path, monkeypatch, capsys):
    import cytoql

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cytoql, "query", interrupted)
    monkeypatch.setattr("cytoql.api.query", interrupted)
    assert main(["query", kidney_path, "count(cells)"]) == 130
    assert capsys.readouterr().err == "cytoql: interrupted\n"


def test_closed_pipe_stops_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "cytoql.cli", "demo"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # like `cytoql demo | head -1`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_info_on_a_file_without_cells_says_so_and_exits_1(kidney_path, tmp_path, capsys):
    import anndata as ad

    empty = tmp_path / "empty.h5ad"
    ad.read_h5ad(kidney_path)[:0].copy().write_h5ad(empty)
    assert main(["info", str(empty)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cytoql: error: the AnnData has no cells (0 rows in obs)")
    assert '"fov"' in err
