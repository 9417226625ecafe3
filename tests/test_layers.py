"""Imports go one way, downwards (DESIGN.md): widgets -> plots/experiments -> sim -> cores."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "distlab"

# layer -> modules it must never import (directly, at any place in the file)
FORBIDDEN = {
    "sim": ("matplotlib", "ipywidgets", "distlab.plots", "distlab.experiments", "distlab.widgets"),
    "experiments": ("matplotlib", "ipywidgets", "distlab.plots", "distlab.widgets"),
    "plots": ("simpy", "ipywidgets", "distlab.sim", "distlab.experiments", "distlab.widgets"),
    "widgets": ("simpy", "distlab.sim"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_upwards(layer):
    offences = []
    for path in sorted((PACKAGE / layer).glob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offences.append(f"{path.name} imports {name}")
    assert not offences, offences


def test_importing_distlab_is_light():
    code = (
        "import sys, distlab, distlab.exercises, distlab._validate; "
        "heavy = [m for m in ('simpy', 'pandas', 'matplotlib', 'ipywidgets') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve_lazily():
    import distlab

    for name in distlab.__all__:
        assert getattr(distlab, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        distlab.Nope  # noqa: B018
