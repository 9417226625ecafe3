"""tools/execute_notebooks.py: per-cell timeouts are failures, a broken kernel channel is retried
once. Fake clients and kernels stand in for nbclient and Jupyter: nothing waits or sleeps."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from queue import Empty

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

TOOL = Path(__file__).resolve().parents[2] / "tools" / "execute_notebooks.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("execute_notebooks", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["execute_notebooks"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1\nx")]
    )
    path = tmp_path / "07_demo.ipynb"
    nbformat.write(nb, path)
    return path


# -- the kernel probe ------------------------------------------------------------------------------
class FakeShell:
    def __init__(self, replies):
        self.replies = list(replies)
        self.timeouts = []

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if not self.replies:
            raise Empty
        return self.replies.pop(0)


class FakeKernelClient:
    """The parts of a jupyter_client kernel client the probe uses; answers at once or never."""

    def __init__(self, alive=True, replies=()):
        self.alive = alive
        self.shell_channel = FakeShell(replies)

    def is_alive(self):
        return self.alive

    def kernel_info(self):
        return "probe-1"


def _reply(msg_id):
    return {"parent_header": {"msg_id": msg_id}, "content": {}}


def test_kernel_answers_only_when_alive_and_the_reply_is_its_own(tool):
    answers = asyncio.run
    assert answers(tool.kernel_answers(FakeKernelClient(replies=[_reply("probe-1")]), 5))
    assert not answers(tool.kernel_answers(FakeKernelClient(replies=[]), 5))
    assert not answers(tool.kernel_answers(FakeKernelClient(alive=False), 5))
    late = FakeKernelClient(replies=[_reply("old-cell"), _reply("other")])
    assert not answers(tool.kernel_answers(late, 5))
    assert late.shell_channel.timeouts[0] <= 5


# -- whose fault a failed cell is ------------------------------------------------------------------
def _checked_client(tool, monkeypatch, raises, kc):
    async def failing_cell(self, cell, cell_index, *args, **kwargs):
        raise raises

    monkeypatch.setattr(NotebookClient, "async_execute_cell", failing_cell)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("while True:\n    pass")])
    client = tool.CheckedClient(nb, timeout=90)
    client.kc = kc
    client.notebook_name = "notebooks/01_challenges.ipynb"
    return client, nb.cells[0]


def test_a_cell_still_running_at_its_timeout_fails_without_retry(tool, monkeypatch):
    timeout = CellTimeoutError("Cell execution timed out")
    client, cell = _checked_client(tool, monkeypatch, timeout, FakeKernelClient(replies=[]))
    with pytest.raises(tool.CellTimedOut) as info:
        asyncio.run(client.async_execute_cell(cell, 3))
    assert str(info.value) == (
        "notebooks/01_challenges.ipynb: cell 3 (`while True:`): timed out after 90 s "
        "(the kernel was still running it)"
    )
    assert not isinstance(info.value, tool.KernelChannelError)


def test_an_idle_kernel_that_never_replied_is_a_channel_error(tool, monkeypatch):
    timeout = CellTimeoutError("Cell execution timed out")
    kc = FakeKernelClient(replies=[_reply("probe-1")])  # idle: answers the probe at once
    client, cell = _checked_client(tool, monkeypatch, timeout, kc)
    with pytest.raises(tool.KernelChannelError, match=r"cell 3 .* no reply within 90 s, although"):
        asyncio.run(client.async_execute_cell(cell, 3))


def test_a_dead_kernel_is_a_channel_error(tool, monkeypatch):
    client, cell = _checked_client(
        tool, monkeypatch, DeadKernelError("Kernel died"), FakeKernelClient(alive=False)
    )
    with pytest.raises(tool.KernelChannelError, match=r"01_challenges.ipynb: cell 3 .* died"):
        asyncio.run(client.async_execute_cell(cell, 3))


# -- one retry, for the channel only ---------------------------------------------------------------
class ScriptedClient:
    """Stands in for CheckedClient: each execute() takes the next outcome of a shared script."""

    def __init__(self, script, made):
        self.script = script
        self.made = made

    def __call__(self, nb, **options):
        self.made.append(options)
        client = type("Client", (), {})()
        outcome = self.script.pop(0)

        def execute(**kernel_options):
            if outcome is not None:
                raise outcome
            nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"})]
            return nb

        client.execute = execute
        return client


def _run(tool, path, script, **options):
    made, log = [], []
    result = tool.run(path, client_factory=ScriptedClient(script, made), log=log.append, **options)
    return result, made, log


def test_a_channel_failure_runs_the_notebook_once_more(tool, notebook):
    channel = tool.KernelChannelError("07_demo.ipynb: cell 1 (`x = 1`): the kernel died")
    (nb, _elapsed, runs), made, log = _run(tool, notebook, [channel, None])
    assert runs == 2 and len(made) == 2
    assert log == [f"{channel}; running {notebook} again in a new kernel"]
    assert nb.cells[1].outputs[0]["data"] == {"text/plain": "1"}
    assert made[0]["timeout"] == tool.CELL_TIMEOUT_S == 120


def test_a_second_channel_failure_is_reported(tool, notebook):
    channel = tool.KernelChannelError("the kernel died")
    with pytest.raises(tool.KernelChannelError):
        _run(tool, notebook, [channel, channel, None])


@pytest.mark.parametrize(
    "failure, kind",
    [
        ("timeout", "CellTimedOut"),
        ("cell error", "NotebookFailed"),
    ],
)
def test_a_cell_failure_is_not_retried(tool, notebook, failure, kind):
    error = (
        tool.CellTimedOut("07_demo.ipynb: cell 1 (`x = 1`): timed out after 120 s")
        if failure == "timeout"
        else CellExecutionError("traceback", "ZeroDivisionError", "division by zero")
    )
    made, log = [], []
    with pytest.raises(tool.NotebookFailed) as info:
        tool.run(notebook, client_factory=ScriptedClient([error, None], made), log=log.append)
    assert type(info.value).__name__ == kind
    assert len(made) == 1 and log == []
    assert "07_demo.ipynb" in str(info.value)


def test_kernel_start_failures_count_as_channel_failures(tool, notebook):
    (_nb, _elapsed, runs), _made, log = _run(tool, notebook, [RuntimeError("no kernel"), None])
    assert runs == 2 and "RuntimeError: no kernel" in log[0]


# -- timeouts sized per notebook, the command's exit code ------------------------------------------
def test_per_notebook_cell_timeout(tool, notebook):
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["distlab"] = {"cell_timeout_s": 45}
    nbformat.write(nb, notebook)
    _result, made, _log = _run(tool, notebook, [None])
    assert made[0]["timeout"] == 45
    _result, made, _log = _run(tool, notebook, [None], timeout_s=7)
    assert made[0]["timeout"] == 7
    for bad in (0, 5000, "60", True):
        nb.metadata["distlab"] = {"cell_timeout_s": bad}
        with pytest.raises(ValueError, match="cell_timeout_s=.* must be 1 to 3600 s"):
            tool.cell_timeout_s(nb)


def test_main_exits_non_zero_naming_notebook_and_cell(tool, capsys):
    def execute_one(path):
        if path.name == "01_challenges.ipynb":
            raise tool.CellTimedOut(f"{path}: cell 7 (`x = 1`): timed out after 120 s")
        return 1.5

    code = tool.main(["n/00_start_here.ipynb", "n/01_challenges.ipynb"], execute_one=execute_one)
    out, err = capsys.readouterr()
    assert code == 1
    assert "executed n/00_start_here.ipynb in 1.5 s" in out
    assert "FAILED n/01_challenges.ipynb: cell 7 (`x = 1`): timed out after 120 s" in err
    assert tool.main(["a.ipynb"], execute_one=lambda path: 0.1) == 0
    assert tool.main([]) == 2


def test_execute_writes_the_notebook_without_widget_views(tool, notebook, monkeypatch):
    view = "application/vnd.jupyter.widget-view+json"

    def factory(nb, **options):
        client = type("Client", (), {})()

        def execute(**kernel_options):
            output = nbformat.v4.new_output("display_data", {"text/plain": "w", view: {"m": 1}})
            nb.cells[1].outputs = [output]
            nb.metadata["widgets"] = {"state": {}}

        client.execute = execute
        return client

    tool.execute(notebook, client_factory=factory)
    nb = nbformat.read(notebook, as_version=4)
    assert nb.cells[1].outputs[0]["data"] == {"text/plain": "w"}
    assert "widgets" not in nb.metadata


# -- property: whatever the kernel does, at most two runs, and a retry only for the channel -------
OUTCOMES = ["ok", "cell timeout", "cell error", "kernel died", "no reply", "start failed"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(OUTCOMES), min_size=2, max_size=2))
def test_runs_retry_only_channel_failures_and_at_most_once(tool, notebook, outcomes):
    def failure(word):
        return {
            "ok": None,
            "cell timeout": tool.CellTimedOut("cell 1 (`x = 1`): timed out after 120 s"),
            "cell error": CellExecutionError("tb", "ValueError", "bad"),
            "kernel died": tool.KernelChannelError("cell 1 (`x = 1`): the kernel died"),
            "no reply": tool.KernelChannelError("cell 1 (`x = 1`): no reply within 120 s"),
            "start failed": RuntimeError("kernel did not start"),
        }[word]

    channel = {"kernel died", "no reply", "start failed"}
    made, log = [], []
    factory = ScriptedClient([failure(w) for w in outcomes], made)
    try:
        _nb, _elapsed, runs = tool.run(notebook, client_factory=factory, log=log.append)
        ran_ok = True
    except tool.NotebookFailed as exc:
        ran_ok, runs = False, len(made)
        assert "cell 1" in str(exc) or "07_demo.ipynb" in str(exc)
    expected_runs = 2 if outcomes[0] in channel else 1
    assert runs == len(made) == expected_runs and len(log) == expected_runs - 1
    assert ran_ok == (outcomes[expected_runs - 1] == "ok")


def test_consecutive_prints_are_one_stream_output_whatever_the_kernel_sent(tool):
    from nbformat.v4 import new_output

    outs = [
        new_output("stream", name="stdout", text="a\n"),
        new_output("stream", name="stdout", text="b\n"),
        new_output("stream", name="stderr", text="warn\n"),
        new_output("stream", name="stdout", text="c\n"),
    ]
    merged = tool.coalesce_streams(outs)
    assert [(o.name, o.text) for o in merged] == [
        ("stdout", "a\nb\n"),
        ("stderr", "warn\n"),
        ("stdout", "c\n"),
    ]
