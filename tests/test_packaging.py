"""The installed distribution holds cytoql (with kernels, agent, grammar, data) and nothing else."""

from __future__ import annotations

import json
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# source directory -> installed package prefix
MAPPING = {"cytoql": "cytoql", "kernels": "cytoql.kernels", "agent": "cytoql.agent",
           "grammar": "cytoql.grammar"}


def _not_a_wheel_install() -> bool:
    """True for an editable install, or when a build's .egg-info in the checkout is found."""
    dist = metadata.distribution("cytoql")
    if Path(str(dist.locate_file(""))).resolve() == REPO:
        return True
    text = dist.read_text("direct_url.json")
    return bool(text) and json.loads(text).get("dir_info", {}).get("editable", False)


def _source_packages() -> set[str]:
    found = set()
    for src, prefix in MAPPING.items():
        for init in (REPO / src).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / src).parts
            found.add(".".join((prefix, *rel)))
    return found


def test_every_source_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    missing = _source_packages() - listed
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


@pytest.mark.skipif(_not_a_wheel_install(), reason="an editable install has no file list; CI installs the wheel")
def test_wheel_contents():
    files = {str(f).replace("\\", "/") for f in metadata.files("cytoql")}
    top = {f.split("/")[0] for f in files}
    assert {t for t in top if not t.endswith(".dist-info") and t != ".."} == {"cytoql"}, top
    for required in ["cytoql/kernels/__init__.py", "cytoql/agent/__init__.py",
                     "cytoql/grammar/cytoql.lark", "cytoql/datasets/data/cosmx_kidney.h5ad",
                     "cytoql/datasets/data/COSMX_KIDNEY_LICENSE.md"]:
        assert required in files, required
    for pkg in _source_packages():
        assert pkg.replace(".", "/") + "/__init__.py" in files, pkg

