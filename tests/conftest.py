"""Test configuration shared by every test module, and where the reference histories are."""

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

# In CI, hypothesis draws the same examples every run, so a red build is reproducible.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO = Path(__file__).resolve().parents[1]


def _readme_examples(heading: str, count: int) -> list[str]:
    """The Python code blocks of README.md's section ``heading`` (up to the next heading of its
    level or higher, the title aside: a line "# ..." may be a comment in a code block), checked
    to be ``count``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"\n{heading}\n" in text, f"README.md has no section {heading!r}"
    level = len(heading) - len(heading.lstrip("#"))
    section = text.split(f"\n{heading}\n", 1)[1]
    section = re.split(rf"\n#{{2,{level}}} ", section, maxsplit=1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == count, f"README's {heading!r} has {count} Python example(s)"
    return blocks


@pytest.fixture(scope="session")
def readme_examples():
    """``readme_examples("### Sagas", 1)``: that README section's Python examples, to run."""
    return _readme_examples


def histories_dir() -> Path:
    """$DISTLAB_HISTORIES, else ../shared/data/histories beside the checkout."""
    env = os.environ.get("DISTLAB_HISTORIES")
    return Path(env) if env else REPO.parent / "shared" / "data" / "histories"


def expected_verdicts() -> list[tuple[str, str]]:
    path = histories_dir() / "expected.txt"
    if not path.is_file():
        return []
    return [tuple(line.split()) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def histories() -> Path:
    folder = histories_dir()
    if not (folder / "expected.txt").is_file():
        pytest.skip(
            f"the linearizability fixtures are expected in {folder} (expected.txt, etcd/, kv/); "
            "set DISTLAB_HISTORIES to their folder"
        )
    return folder
