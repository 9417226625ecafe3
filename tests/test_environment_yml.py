"""environment.yml (conda, Binder) must ask for exactly what pyproject.toml asks for."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = _REQUIREMENT.match(requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    wanted = dict(_normalise(r) for r in requirements)
    wanted["python"] = project["requires-python"].replace(" ", "")
    return wanted


def _environment_requirements() -> tuple[dict[str, str], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        else:
            name, spec = _normalise(entry)
            conda[name] = spec
    return conda, pip


def test_environment_yml_uses_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]


def test_environment_yml_installs_distlab_itself_editable():
    _, pip = _environment_requirements()
    assert "-e ." in pip


def test_environment_yml_matches_pyproject():
    conda, pip = _environment_requirements()
    found = dict(conda)
    found.update(_normalise(p) for p in pip if not p.startswith("-e"))
    found.pop("pip", None)
    assert found == _pyproject_requirements()
