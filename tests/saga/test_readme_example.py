"""The README's Sagas example runs as written, and does what its comments say."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _sagas_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Sagas\n", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Sagas section has one Python example"
    return blocks[0]


def test_readme_sagas_example_runs_and_charges_once():
    namespace: dict = {}
    exec(compile(_sagas_code(), "README.md (Sagas)", "exec"), namespace)
    assert namespace["result"].status == "completed"
    payments = namespace["payments"]
    assert payments.execute("SELECT order_id, amount FROM charge").fetchall() == [("order-42", 30)]
    history = namespace["orchestrator"].to_frame("order-42")
    assert history["step"].tolist() == ["reserve_stock", "charge_card", "email_receipt"]
    assert history["key"].tolist()[1] == "order-42/charge_card"
    # the same key again (a duplicate, a retry after recovery) is answered from the record
    ctx = type("Ctx", (), {"key": "order-42/charge_card", "saga_id": "order-42",
                           "data": {"amount": 30}})()  # fmt: skip
    assert namespace["charge_card"](ctx) == "charged 30"
    assert payments.execute("SELECT COUNT(*) FROM charge").fetchone()[0] == 1
