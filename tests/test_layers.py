"""The house style's structural rules (CONTRIBUTING.md), checked on the source.

Imports go one way, downwards: widgets -> plots/experiments -> sim -> cores; pattern cores import
no SimPy, pandas, matplotlib or ipywidgets; no module imports another module's ``_private`` names
or reaches into another module's objects' private attributes.
"""

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


#: Pattern cores: plain Python and numpy (no simulation, no drawing, no widgets, no upper layer).
CORE_FORBIDDEN = (
    "simpy",
    "matplotlib",
    "ipywidgets",
    "distlab.sim",
    "distlab.plots",
    "distlab.experiments",
    "distlab.widgets",
)
#: ...and no tables at import time: pandas only inside a function that converts to or from a
#: DataFrame (``History.to_frame``), so importing a core never loads it.
CORE_FORBIDDEN_AT_IMPORT = ("pandas",)
LAYERS = {"sim", "experiments", "plots", "widgets"}


def _core_modules() -> list[Path]:
    """Every module of distlab that is not in a layer package: the pattern cores (and helpers)."""
    paths = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in LAYERS or rel.name in ("__init__.py", "exercises.py"):
            continue
        paths.append(path)
    return paths


def _all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


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


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _matches(name: str, banned: tuple[str, ...]) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in banned)


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pattern_cores_import_nothing_heavy(path):
    offences = [name for name in _imports(path) if _matches(name, CORE_FORBIDDEN)]
    offences += [
        f"{name} at import time"
        for name in _top_level_imports(path)
        if _matches(name, CORE_FORBIDDEN_AT_IMPORT)
    ]
    assert not offences, f"{path.name} imports {offences}"


def _private_imports(path: Path) -> list[str]:
    offences = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    offences.append(f"from {node.module} import {alias.name}")
    return offences


def _defined_private_names(tree: ast.AST) -> set[str]:
    """Private names this module defines: functions, classes, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("setattr", "__setattr__")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            names.add(
                str(node.args[1].value)
            )  # object.__setattr__(self, "_x", ...) in a frozen class
    return {n for n in names if n.startswith("_")}


def _private_reaches(path: Path) -> list[str]:
    """``obj._name`` (``obj`` not ``self`` or ``cls``) where ``_name`` is not defined in this
    module: a reach into another module's object (ours or a library's, such as SimPy's
    ``env._now``)."""
    tree = ast.parse(path.read_text())
    own = _defined_private_names(tree)
    offences = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        attr = node.attr
        if not attr.startswith("_") or attr.startswith("__") or attr in own:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue  # an object's own attributes, its base classes' included
        offences.append(f"line {node.lineno}: .{attr}")
    return offences


@pytest.mark.parametrize("path", _all_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_uses_another_modules_private_names(path):
    offences = _private_imports(path) + _private_reaches(path)
    assert not offences, f"{path.relative_to(PACKAGE)}: {offences}"


def test_every_module_is_listed_in_the_package_index():
    """``distlab.<name>`` resolves for every top-level module and subpackage (lazily)."""
    import distlab

    tops = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    tops |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    missing = sorted(tops - set(dir(distlab)))
    assert not missing, f"distlab/__init__.py does not list {missing}"


#: Functions CONTRIBUTING.md says are better whole ("Exceptions to the size rule").
LONG_FUNCTIONS_ALLOWED = {("linearizability/search.py", "_wing_gong")}
MAX_CLASS_LINES = 300
MAX_FUNCTION_LINES = 60  # not counting the docstring


def _docstring_lines(node: ast.AST) -> int:
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.end_lineno - first.lineno + 1
    return 0


def test_no_god_classes_or_functions():
    offences = []
    for path in _all_modules():
        rel = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text())):
            length = node.end_lineno - node.lineno + 1 if hasattr(node, "end_lineno") else 0
            if isinstance(node, ast.ClassDef) and length > MAX_CLASS_LINES:
                offences.append(f"class {rel}::{node.name} has {length} lines")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                code = length - _docstring_lines(node)
                if code > MAX_FUNCTION_LINES and (rel, node.name) not in LONG_FUNCTIONS_ALLOWED:
                    offences.append(f"function {rel}::{node.name} has {code} lines of code")
    assert not offences, offences


def test_the_size_exceptions_are_written_down():
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text()
    for rel, name in LONG_FUNCTIONS_ALLOWED:
        assert f"{rel}" in text and name in text, f"CONTRIBUTING.md does not explain {rel}::{name}"
