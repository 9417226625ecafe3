"""The file readers: the fixtures parse, and every other line is understood or reported
(Reliability 2: a cut-off line, an unknown function or type, a process that is not a number, an
empty file were skipped silently and could flip a verdict)."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab import History, check_linearizable

ETCD_OK = (
    "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
    "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
    "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
)


def test_etcd_parsing(histories):
    h = History.from_jepsen_log(histories / "etcd" / "etcd_000.log")
    first = h[0]
    assert (first.process, first.f, first.type, first.result, first.invoke, first.complete) == (
        0,
        "read",
        "ok",
        None,
        0.0,
        6.0,
    )
    cas = [op for op in h if op.f == "cas"]
    assert cas and all(isinstance(op.value, tuple) and len(op.value) == 2 for op in cas)
    assert {op.type for op in cas} <= {"ok", "fail", "info"}
    timed_out_reads = [
        op
        for op in History.from_jepsen_log(histories / "etcd" / "etcd_100.log")
        if op.f == "read" and op.type == "fail"
    ]
    assert timed_out_reads and all(op.result is None for op in timed_out_reads)


def test_kv_parsing(histories):
    h = History.from_edn(histories / "kv" / "c01-ok.txt")
    assert {op.f for op in h} == {"get", "put", "append"} or {op.f for op in h} <= {
        "get",
        "put",
        "append",
    }
    assert all(isinstance(op.key, str) for op in h)
    gets = [op for op in h if op.f == "get"]
    assert all(op.value is None and isinstance(op.result, str) for op in gets)
    assert all(op.type == "ok" for op in h)


def test_every_fixture_parses_strictly(histories):
    for path in sorted((histories / "etcd").glob("*.log")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(History.from_jepsen_log(path)) > 0
    for path in sorted((histories / "kv").glob("*.txt")):
        assert len(History.from_edn(path)) > 0


def test_cut_off_last_line_is_reported_not_turned_into_an_unknown_outcome(histories, tmp_path):
    """The regression: cutting the last completion of a not-linearizable log made its operation
    an unknown-outcome one, and the verdict became linearizable."""
    lines = (histories / "etcd" / "etcd_001.log").read_text().splitlines()
    assert check_linearizable(History.from_jepsen_log(histories / "etcd" / "etcd_001.log"),
                              model="cas-register").verdict == "not-linearizable"  # fmt: skip
    last = max(k for k, line in enumerate(lines) if ":ok" in line or ":fail" in line)
    cut = tmp_path / "cut.log"
    cut.write_text("\n".join(lines[:last] + [lines[last][: lines[last].rindex(":") + 4]]))
    with pytest.raises(ValueError, match=rf"cut.log:{last + 1}: "):
        History.from_jepsen_log(cut)
    with pytest.warns(UserWarning, match=rf"cut.log: skipped 1 line\(s\) .*line {last + 1}"):
        History.from_jepsen_log(cut, skip_unreadable=True)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("INFO  jepsen.util - 3\t:invoke\t:add\t1", "unknown function ':add'"),
        ("INFO  jepsen.util - 3\t:crash\t:write\t1", "unknown type ':crash'"),
        ("INFO  jepsen.util - x3\t:invoke\t:write\t1", "process 'x3' is not a number"),
        ("INFO  jepsen.util - 3\t:ok\t:write", "expected 'process :type :f value'"),
        ("INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2", "cannot read the value"),
        ("INFO  jepsen.util - 3\t:ok\t:read\t:timed-out", "needs a value, got the keyword"),
        ("INFO  jepsen.ut", "not a log line"),
        ("garbage", "not a log line"),
    ],
)
def test_jepsen_lines_not_understood_are_reported(tmp_path, line, why):
    path = tmp_path / "h.log"
    path.write_text(ETCD_OK + line + "\n")
    with pytest.raises(ValueError, match=rf"h.log:4: .*{why}"):
        History.from_jepsen_log(path)
    with pytest.warns(UserWarning, match="skipped 1 line"):
        assert len(History.from_jepsen_log(path, skip_unreadable=True)) == 2


def test_jepsen_lines_understood_and_left_out(tmp_path):
    path = tmp_path / "h.log"
    path.write_text(
        ETCD_OK + "\n"
        "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
        "INFO  jepsen.core - Run complete, writing\n"
        "2017-01-01 00:00:00,000 WARN jepsen.os - nothing to do\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(History.from_jepsen_log(path)) == 2


@pytest.mark.parametrize("text", ["", "\n\n", "garbage\nmore garbage\n"])
def test_empty_or_garbage_file_is_an_error(tmp_path, text):
    path = tmp_path / "e.log"
    path.write_text(text)
    with pytest.raises(ValueError, match="e.log"):
        History.from_jepsen_log(path)
    edn = tmp_path / "e.edn"
    edn.write_text(text)
    with pytest.raises(ValueError, match="e.edn"):
        History.from_edn(edn)


def test_empty_file_when_asked_for(tmp_path):
    path = tmp_path / "e.log"
    path.write_text("INFO  jepsen.core - nothing happened\n")
    assert len(History.from_jepsen_log(path, allow_empty=True)) == 0
    edn = tmp_path / "e.edn"
    edn.write_text("; nothing\n")
    assert len(History.from_edn(edn, allow_empty=True)) == 0
    with pytest.raises(ValueError, match="allow_empty=True"):
        History.from_edn(edn)
    with pytest.raises(TypeError, match="allow_empty=1 must be True or False"):
        History.from_edn(edn, allow_empty=1)
    with pytest.raises(TypeError, match="skip_unreadable='yes' must be True or False"):
        History.from_jepsen_log(path, skip_unreadable="yes")
    with pytest.raises(TypeError, match="path=None must be a str or a pathlib.Path"):
        History.from_edn(None)


@pytest.mark.parametrize(
    ("line", "error", "why"),
    [
        ('{:process {:a 1}, :type :invoke, :f :get, :key "k", :value nil}', ValueError,
         ":process .* must be a number or a string"),
        ('{:process 0, :type :crash, :f :get, :key "k", :value nil}', ValueError,
         ":type 'crash' is not one of"),
        ('{:process 0, :type :invoke, :f :add, :key "k", :value 1}', ValueError,
         ":f 'add' is not one of"),
        ('{:process 0, :type :invoke, :f :get, :key ["k"], :value nil}', ValueError,
         ":key .* must be a string or a number"),
        ('{:process 0, :type :invoke, :f :get, :key "k", :time "noon"}', ValueError,
         ":time 'noon' must be a number"),
        ('{:process 0, :type :invoke, :f :get, :key "k", :time inf}', ValueError,
         "unknown token 'inf'"),
        ('{:process 0, :type :invoke, :f :get, :key "k"', ValueError, "unclosed"),
        ("[1 2 3]", ValueError, "expected a map with :process, :type and :f"),
        ('{:process 0, :type :invoke, :f :cas, :value 5}', ValueError,
         r"a cas needs value=\(expected, new\)"),
        ('{:process 9, :type :ok, :f :get, :key "k", :value "x"}', ValueError,
         "completion without an invocation by process 9"),
    ],
)  # fmt: skip
def test_edn_lines_not_understood_name_file_and_line(tmp_path, line, error, why):
    path = tmp_path / "h.edn"
    path.write_text('{:process 1, :type :invoke, :f :get, :key "k", :value nil}\n\n' + line + "\n")
    with pytest.raises(error, match=rf"h.edn:3: .*{why}"):
        History.from_edn(path)


def test_edn_nemesis_events_are_left_out(tmp_path):
    path = tmp_path / "h.edn"
    path.write_text(
        "{:process :nemesis, :type :info, :f :start, :value nil}\n"
        '{:process 0, :type :invoke, :f :put, :key "k", :value "x"}\n'
        '{:process 0, :type :ok, :f :put, :key "k", :value "x"}\n'
    )
    assert [(op.f, op.type) for op in History.from_edn(path)] == [("put", "ok")]


def test_edn_times_out_of_order_give_operations_in_invocation_order(tmp_path):
    """Reliability 1 for the EDN reader with :time."""
    path = tmp_path / "h.edn"
    path.write_text(
        "{:process 0, :type :invoke, :f :write, :value 1, :time 10}\n"
        "{:process 1, :type :invoke, :f :write, :value 1, :time 0}\n"
        "{:process 2, :type :invoke, :f :read, :value nil, :time 1}\n"
        "{:process 2, :type :ok, :f :read, :value 1, :time 2}\n"
    )
    h = History.from_edn(path)
    assert [op.invoke for op in h] == [0.0, 1.0, 10.0] and [op.process for op in h] == [1, 2, 0]
    assert check_linearizable(h).verdict == "linearizable"


# -- fuzz: malformed files either read or raise ValueError/TypeError naming file:line -------------

_TOKENS = st.sampled_from(
    ["INFO", "jepsen.util", "-", "0", "1", "x", ":invoke", ":ok", ":fail", ":info", ":crash",
     ":read", ":write", ":cas", ":add", "nil", "1", "[0 1]", "[1", ":timed-out", ":nemesis", "\t",
     "jepsen.core", '"s"', "1e999", "-0", "99999999999999999999999"]
)  # fmt: skip
_EDN = st.sampled_from(
    ["{", "}", "[", "]", ":process", "0", "1", ":type", ":invoke", ":ok", ":info", ":f", ":get",
     ":put", ":append", ":read", ":key", '"k"', ":value", "nil", '"x"', ":time", "1.5", "nan",
     "##Inf", "{:a 1}", "[1 2]", ",", "true", '"unterminated', "1e999", "-3"]
)  # fmt: skip


def _check_read(path, reader):
    try:
        h = reader(path)
    except (ValueError, TypeError) as exc:
        assert path.name in str(exc), str(exc)
        return
    assert len(h) > 0
    for op in h:
        assert math.isfinite(op.invoke)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(_TOKENS, max_size=7).map(" ".join), max_size=8))
def test_fuzz_jepsen_log(tmp_path, lines):
    path = tmp_path / "fuzz.log"
    path.write_text(ETCD_OK + "\n".join("INFO  jepsen.util - " + line for line in lines))
    _check_read(path, History.from_jepsen_log)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(_EDN, max_size=12).map(" ".join), max_size=6))
def test_fuzz_edn(tmp_path, lines):
    path = tmp_path / "fuzz.edn"
    path.write_text("\n".join(lines))
    _check_read(path, History.from_edn)
