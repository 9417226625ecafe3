"""Test configuration shared by every test module, and where the reference histories are."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

# In CI, hypothesis draws the same examples every run, so a red build is reproducible.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO = Path(__file__).resolve().parents[1]


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
