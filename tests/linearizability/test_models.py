"""The Model interface (Porcupine's: init, step, describe) and its three instances."""

from __future__ import annotations

import pytest

from distlab import History, Operation, check_linearizable
from distlab.linearizability import CAS_REGISTER, KV, MODELS, REGISTER, Model
from distlab.linearizability.models import REFUSED


def op(f, value=None, result=None, typ="ok", key=None, index=0):
    return Operation(index, 1, f, key, value, result, typ, 0.0, 1.0)


def test_instances_by_name():
    assert MODELS == {"register": REGISTER, "cas-register": CAS_REGISTER, "kv": KV}
    assert (REGISTER.init(), CAS_REGISTER.init(), KV.init()) == (None, None, "")
    assert KV.keyed and not REGISTER.keyed


@pytest.mark.parametrize(
    ("model", "state", "operation", "expected"),
    [
        (REGISTER, None, op("write", 3), (True, 3)),
        (REGISTER, 3, op("read", result=3), (True, 3)),
        (REGISTER, 2, op("read", result=3), (False, 2)),
        (CAS_REGISTER, 1, op("cas", (1, 2)), (True, 2)),
        (CAS_REGISTER, 0, op("cas", (1, 2)), (False, 0)),
        (CAS_REGISTER, 0, op("cas", (1, 2), typ="fail"), (True, 0)),
        (CAS_REGISTER, 1, op("cas", (1, 2), typ="fail"), (False, 1)),
        (CAS_REGISTER, 1, op("cas", (1, 2), typ="info"), (True, 2)),
        (KV, "a", op("append", "b", key="k"), (True, "ab")),
        (KV, "a", op("put", "z", key="k"), (True, "z")),
        (KV, "", op("get", result=None, key="k"), (True, "")),
    ],
)
def test_step_and_its_compiled_form_agree(model, state, operation, expected):
    assert model.step(state, operation) == expected
    pure, fn = model.compile(operation)
    if pure:
        assert fn(state) == expected[0] and expected[1] == state
    else:
        assert fn(state) == (expected[1] if expected[0] else REFUSED)


def test_describe():
    assert REGISTER.describe(None) == "nil (never written)" and REGISTER.describe(2) == "2"
    assert KV.describe("") == "''"
    assert "holds 2" in REGISTER.why_refused(2, op("read", result=3))


class MaxRegister(Model):
    """A register that keeps the largest value written: a model written from init/step only."""

    name = "max-register"
    functions = ("read", "write")
    noun = "max-register"

    def init(self):
        return 0

    def step(self, state, operation):
        if operation.f == "read":
            return state == operation.result, state
        return True, max(state, operation.value)

    def is_pure(self, operation):
        return operation.f == "read"


def test_a_model_of_ones_own():
    rows = [
        Operation(0, 0, "write", None, 5, None, "ok", 0, 1),
        Operation(1, 1, "write", None, 3, None, "ok", 2, 3),
        Operation(2, 2, "read", None, None, 5, "ok", 4, 5),
    ]
    r = check_linearizable(History(rows), model=MaxRegister())
    assert r.verdict == "linearizable" and r.model == "max-register" and r.state == 5
    rows[2] = Operation(2, 2, "read", None, None, 3, "ok", 4, 5)
    r = check_linearizable(History(rows), model=MaxRegister())
    assert r.verdict == "not-linearizable" and "max-register holds 5" in r.explanation
    # the same history as a plain register: the last write wins
    assert check_linearizable(History(rows), model="register").verdict == "linearizable"
    with pytest.raises(ValueError, match="'cas' is not part of the 'max-register' model"):
        check_linearizable(History([op("cas", (1, 2))]), model=MaxRegister())
