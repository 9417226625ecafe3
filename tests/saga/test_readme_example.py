"""The README's Sagas example runs as written, and does what its comments say."""


def test_readme_sagas_example_runs_and_charges_once(readme_examples):
    namespace: dict = {}
    (code,) = readme_examples("### Sagas", 1)
    exec(compile(code, "README.md (Sagas)", "exec"), namespace)
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
