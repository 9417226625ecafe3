"""Every fixture of ../shared/data/histories gets the verdict expected.txt gives it (issue 5)."""

from __future__ import annotations

import pytest

from distlab import History, check_linearizable

from ..conftest import expected_verdicts

CASES = expected_verdicts()
# generous: the checker takes well under a second on each; a verdict is required, never "unknown"
TIMEOUT_S = 60.0


def _load(folder, name):
    if name.startswith("etcd"):
        return History.from_jepsen_log(folder / "etcd" / name), "cas-register"
    return History.from_edn(folder / "kv" / name), "kv"


def test_every_fixture_is_listed(histories):
    assert len(CASES) == 108
    assert sorted(p.name for p in (histories / "etcd").glob("*.log")) == sorted(
        n for n, _ in CASES if n.startswith("etcd")
    )
    assert sorted(p.name for p in (histories / "kv").glob("*.txt")) == sorted(
        n for n, _ in CASES if not n.startswith("etcd")
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    CASES
    or [
        pytest.param(
            "-",
            "-",
            marks=pytest.mark.skip(
                reason="no fixtures: expected in ../shared/data/histories or $DISTLAB_HISTORIES"
            ),
        )
    ],
    ids=[c[0] for c in CASES] or None,
)
def test_fixture_verdict(histories, name, expected):
    history, model = _load(histories, name)
    result = check_linearizable(history, model=model, timeout_s=TIMEOUT_S)
    assert result.verdict != "unknown", f"{name}: no verdict within {TIMEOUT_S} s"
    assert result.verdict == expected, f"{name}: {result.explanation}"
    if expected == "not-linearizable":
        assert "Not linearizable" in result.explanation
    else:
        assert result.linearization is not None or model == "kv"


def test_fixture_verdicts_without_the_quick_refutation(histories, monkeypatch):
    """The search alone (not the shortcut for reads of values never written) gets every etcd
    verdict."""
    from distlab.linearizability.models import Register

    monkeypatch.setattr(Register, "impossible", lambda self, ops: None)
    wrong = {}
    for name, expected in CASES:
        if name.startswith("etcd"):
            history, model = _load(histories, name)
            verdict = check_linearizable(history, model=model, timeout_s=TIMEOUT_S).verdict
            if verdict != expected:
                wrong[name] = verdict
    assert wrong == {}
