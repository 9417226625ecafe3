"""The one shape every experiment returns: :class:`Result`.

An experiment is a pure function of (parameters, seed). What it returns is a frozen dataclass that
subclasses :class:`Result`, with three fields every result has:

- ``frame``: the tidy main table, one row per call, operation, message or run (named columns,
  times in seconds, outcomes in :mod:`distlab.outcomes` words; a ``variant`` column when the
  experiment compares variants);
- ``summary``: a small table of plain numbers (ints, floats, bools, short labels), one row per
  variant, service, side or whatever the experiment compares, indexed by it (a single row for an
  experiment that compares nothing). Never a wall-clock time: same parameters and seed, same
  summary, on any machine;
- ``params``: the parameters the run used, after validation, as plain values (numbers, strings,
  bools, ``None``, tuples of those), ``seed`` included: enough to run it again.

A subclass adds the other tables its figures need (``transitions``, ``states``, ``health``...)
as further fields, each a DataFrame or plain values, documented in its docstring.
:func:`distlab.experiments.sweep` stacks ``frame`` or ``summary`` over many runs.

>>> import pandas as pd
>>> r = Result(frame=pd.DataFrame({"outcome": ["ok", "timeout"]}),
...            summary=pd.DataFrame({"calls": [2]}, index=pd.Index(["demo"], name="run")),
...            params={"seed": 0})
>>> r.summary.loc["demo", "calls"]
np.int64(2)
>>> r.table("summary").columns.tolist()
['run', 'calls']
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Result", "TABLES", "plain_params", "summary_row"]

#: The tables :meth:`Result.table` (and so :func:`~distlab.experiments.sweep`) can return.
TABLES = ("frame", "summary")


@dataclass(frozen=True)
class Result:
    """What an experiment returns: ``frame``, ``summary`` and ``params`` (see the module)."""

    frame: pd.DataFrame
    summary: pd.DataFrame
    params: Mapping[str, Any]

    def table(self, name: str = "frame") -> pd.DataFrame:
        """``frame``, or ``summary`` with its index as a column (what a sweep stacks)."""
        if name == "frame":
            return self.frame
        if name == "summary":
            return self.summary.reset_index()
        allowed = ", ".join(repr(t) for t in TABLES)
        raise ValueError(f"table={name!r} must be one of {allowed}")


def summary_row(label: str, index_name: str = "run", **numbers: Any) -> pd.DataFrame:
    """A one-row summary indexed by ``label``, for an experiment that compares nothing.

    >>> summary_row("course", calls=10, rejected=0).to_dict("index")
    {'course': {'calls': 10, 'rejected': 0}}
    """
    return pd.DataFrame([numbers], index=pd.Index([label], name=index_name))


_PLAIN = (str, int, float, bool, type(None))


def plain_params(**params: Any) -> dict[str, Any]:
    """``params`` checked to be plain values (lists become tuples), for :attr:`Result.params`.

    A value that is not plain (a breaker object, a schedule) must be given by its label instead;
    a mapping of plain values becomes a tuple of sorted ``(key, value)`` pairs.

    >>> plain_params(seed=1, strategies=["full", "none"], spec={"b": 2, "a": 1})
    {'seed': 1, 'strategies': ('full', 'none'), 'spec': (('a', 1), ('b', 2))}
    """
    out = {}
    for name, value in params.items():
        out[name] = _plain(name, value)
    return out


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, _PLAIN):
        if isinstance(value, float) and math.isnan(value):
            return None
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_plain(name, v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _plain(name, v)) for k, v in value.items()))
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return _plain(name, value.item())
    raise TypeError(
        f"params[{name!r}]={value!r} is not a plain value; give results a label for it instead"
    )
