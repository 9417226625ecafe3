"""History: construction, DataFrame round trips, events, file parsing, bad input."""

from __future__ import annotations

import math

import pytest

import distlab
from distlab import History, Operation, check_linearizable

EVENTS = [
    (0.0, "a", "invoke", "write", None, 1),
    (0.5, "b", "invoke", "read", None, None),
    (1.0, "a", "ok", "write", None, 1),
    (1.2, "b", "ok", "read", None, 1),
    (2.0, "a", "invoke", "cas", None, [5, 2]),
    (2.5, "c", "invoke", "read", None, None),
    (3.0, "a", "fail", "cas", None, [5, 2]),
    (3.5, "c", "fail", "read", None, None),
    (4.0, "b", "invoke", "write", None, 9),
    (5.0, "b", "info", "write", None, 9),
    (6.0, "c", "invoke", "write", None, 7),
]


def test_exported_lazily():
    assert distlab.History is History and distlab.Operation is Operation
    assert distlab.check_linearizable is check_linearizable
    assert distlab.LinearizabilityResult.__name__ == "LinearizabilityResult"


def test_from_events_pairs_per_process():
    h = History.from_events(EVENTS)
    assert len(h) == 6 and [op.index for op in h] == list(range(6))
    w, r, cas, failed_read, info, never = h
    assert (w.f, w.value, w.type, w.invoke, w.complete) == ("write", 1, "ok", 0.0, 1.0)
    assert (r.value, r.result, r.complete) == (None, 1, 1.2)
    assert cas.value == (5, 2) and cas.type == "fail" and cas.complete == 3.0
    assert failed_read.type == "fail" and failed_read.result is None
    assert info.type == "info" and math.isinf(info.complete)
    assert never.type == "info" and math.isinf(never.complete)
    assert check_linearizable(h, model="cas-register").verdict == "linearizable"


def test_frame_round_trip():
    h = History.from_events(EVENTS)
    df = h.to_frame()
    assert list(df.columns) == [
        "process",
        "f",
        "key",
        "value",
        "result",
        "type",
        "invoke",
        "complete",
    ]
    assert len(df) == len(h) and df["complete"].iloc[-1] == math.inf
    assert History.from_frame(df) == h
    # NaN for missing values (as pandas may produce) reads back as None
    df2 = df.copy()
    df2["key"] = float("nan")
    assert History.from_frame(df2) == h


def test_kv_round_trip_and_for_key():
    ops = [
        Operation(0, 1, "put", "a", "x", None, "ok", 0.0, 1.0),
        Operation(1, 2, "get", "b", None, "", "ok", 0.5, 2.0),
        Operation(2, 1, "append", "a", "y", None, "info", 3.0, math.inf),
    ]
    h = History(ops)
    assert History.from_frame(h.to_frame()) == h
    assert h.keys() == ["a", "b"]
    sub = h.for_key("a")
    assert [op.index for op in sub] == [0, 1] and [op.f for op in sub] == ["put", "append"]
    assert "3 operations" in repr(h)


def test_edn_parsing_edge_cases(tmp_path):
    path = tmp_path / "h.edn"
    path.write_text(
        '{:process 0, :type :invoke, :f :put, :key "k", '
        ':value "a \\"quoted\\" value, with comma"}\n'
        "\n; a comment\n"
        '{:process 0, :type :ok, :f :put, :key "k", :value "a \\"quoted\\" value, with comma"}\n'
        "{:process 1 :type :invoke :f :cas :value [1 2]}\n"
        "{:process 1 :type :info :f :cas :value [1 2]}\n"
        "{:type :invoke, :f :read, :process 2, :value nil}\n"
    )
    h = History.from_edn(path)
    assert h[0].value == 'a "quoted" value, with comma' and h[0].key == "k"
    assert h[1].key is None and h[1].value == (1, 2) and h[1].type == "info"
    assert h[2].type == "info"  # never completed
    assert [op.invoke for op in h] == [0.0, 2.0, 4.0]


def test_jepsen_log_edge_cases(tmp_path):
    path = tmp_path / "etcd.log"
    path.write_text(
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 0    :ok     :read   nil\n"  # spaces instead of tabs
        "INFO  jepsen.core - nemesis :start partition\n"  # not an operation
        "INFO  jepsen.util - 1\t:invoke\t:cas\t[0 3]\n"
        "INFO  jepsen.util - 1\t:info\t:cas\t:timed-out\n"
        "INFO  jepsen.util - 2\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n"
        "INFO  jepsen.util - 3\t:invoke\t:write\t4\n"
    )
    h = History.from_jepsen_log(path)
    assert [(op.process, op.f, op.type) for op in h] == [
        (0, "read", "ok"),
        (1, "cas", "info"),
        (2, "read", "fail"),
        (3, "write", "info"),
    ]
    assert h[0].result is None and h[1].value == (0, 3) and h[2].result is None and h[3].value == 4
    assert h[1].complete == math.inf and h[2].complete == 5.0


def test_completion_without_invocation_names_the_event(tmp_path):
    with pytest.raises(ValueError, match=r"event #1 .*process=7.*completion without an invocation"):
        History.from_events(
            [(0.0, 1, "invoke", "read", None, None), (1.0, 7, "ok", "read", None, 3)]
        )
    path = tmp_path / "bad.log"
    path.write_text("INFO  jepsen.util - 4\t:ok\t:write\t1\n")
    with pytest.raises(
        ValueError, match=r"bad.log:1: completion without an invocation by process 4"
    ):
        History.from_jepsen_log(path)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            [(0, 1, "invoke", "read", None, None), (1, 1, "invoke", "read", None, None)],
            "invokes again while",
        ),
        (
            [(0, 1, "invoke", "read", None, None), (1, 1, "ok", "write", None, 3)],
            "completes a write",
        ),
        (
            [(5, 1, "invoke", "read", None, None), (1, 1, "ok", "read", None, 3)],
            "before its invocation",
        ),
        ([(0, 1, "start", "read", None, None)], "kind must be one of"),
        ([(0, 1, "invoke", "delete", None, None)], "unknown function 'delete'"),
        ([(0, 1, "invoke")], "must be \\(time, process, kind, f, key, value\\)"),
    ],
)
def test_bad_events(events, message):
    with pytest.raises(ValueError, match=message):
        History.from_events(events)


def test_time_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="event #0 .*time must be a number, got 'noon'"):
        History.from_events([("noon", 1, "invoke", "read", None, None)])


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (Operation(3, 1, "read", None, None, None, "ok", 0, 1), "index=3 but it is at position 0"),
        (Operation(0, 1, "read", None, None, None, "done", 0, 1), "unknown type='done'"),
        (Operation(0, 1, "scan", None, None, None, "ok", 0, 1), "unknown function f='scan'"),
        (Operation(0, 1, "read", None, None, None, "ok", 2, 1), "before its invocation"),
        (
            Operation(0, 1, "read", None, None, None, "ok", 0, math.inf),
            "must have a finite completion",
        ),
        (Operation(0, 1, "cas", None, 3, None, "ok", 0, 1), r"needs value=\(expected, new\)"),
    ],
)
def test_bad_operations(op, message):
    with pytest.raises(ValueError, match=message):
        History([op])


def test_from_frame_validates():
    import pandas as pd

    with pytest.raises(ValueError, match="missing column"):
        History.from_frame(pd.DataFrame({"process": [1]}))
    df = History.from_events(EVENTS).to_frame()
    df.loc[0, "f"] = "scan"
    with pytest.raises(ValueError, match="operation #0 .*unknown function f='scan'"):
        History.from_frame(df)


def test_checker_rejects_functions_outside_the_model():
    h = History.from_events(EVENTS)
    with pytest.raises(
        ValueError,
        match=r"operation #2 process 'a': cas from 5 to 2.*not part of the 'register' "
        r"model.*model='cas-register'",
    ):
        check_linearizable(h, model="register")
    with pytest.raises(ValueError, match="operation #0 .*'write' is not part of the 'kv' model"):
        check_linearizable(h, model="kv")
    keyed = History([Operation(0, 1, "read", "x", None, None, "ok", 0, 1)])
    with pytest.raises(ValueError, match="has key 'x'"):
        check_linearizable(keyed, model="register")
    with pytest.raises(ValueError, match="append needs a str"):
        check_linearizable(
            History([Operation(0, 1, "append", "x", 5, None, "ok", 0, 1)]), model="kv"
        )
    with pytest.raises(ValueError, match="not hashable"):
        check_linearizable(
            History([Operation(0, 1, "write", None, [1], None, "ok", 0, 1)]), model="register"
        )


def test_result_is_not_a_truth_value():
    r = check_linearizable(History([]))
    assert r.ok and "linearizable" in r.summary()
    with pytest.raises(TypeError, match="verdict"):
        bool(r)
