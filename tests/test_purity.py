"""The numeric core imports neither streamlit nor plotly."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI_PACKAGES = ("figures", "ui")  # the only parts of bptt/ allowed to draw or to talk to streamlit
CORE = [p for p in sorted((ROOT / "bptt").rglob("*.py")) if p.relative_to(ROOT / "bptt").parts[0] not in UI_PACKAGES]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_does_not_import_ui_libraries(path):
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {n.split(".")[0] for n in names} & {"streamlit", "plotly"}


def test_importing_bptt_loads_neither_streamlit_nor_plotly():
    code = "import sys, bptt; print(sorted(m for m in ('streamlit', 'plotly') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
