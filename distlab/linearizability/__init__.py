"""Is a history linearizable? Wing & Gong's search with Lowe's memoization (as in Porcupine).

A history is *linearizable* if every operation can be given one instant between its invocation and
its completion such that, taken in the order of those instants, the operations are what a single
copy of the data would have answered (the *model*). :func:`check_linearizable` searches for such an
order:

- the operations' invocations and completions are put in one time-ordered doubly-linked list;
  an operation may be placed next (*linearized*) if its invocation comes before the first completion
  still in the list (no unplaced operation finished before it started) and the model accepts it;
  a completion reached in the list means its operation should have been placed already: backtrack;
- every configuration tried (the set of placed operations as an integer bitset, the model's state)
  is remembered, so no configuration is explored twice (Lowe's memoization);
- an ``info`` operation (outcome unknown) may be placed at any point after its invocation or never:
  it has no completion in the list, and the search succeeds once every completed operation is
  placed. Leaving it out is never worse than placing it, so a configuration is also skipped when an
  explored one had the same completed operations and state with a subset of its ``info`` ones;
- an operation that never changes the state (a read, a refused compare-and-set) is placed at once
  when the state allows it, without branching: putting it earlier can never hurt;
- ``fail`` operations did not take effect and are dropped, except a refused ``cas``, whose refusal
  the model checks (the value really differed); so are reads whose outcome is unknown;
- for ``model="kv"`` each key is checked on its own (P-compositionality), stopping at the first key
  that is not linearizable.

Checking is NP-complete: ``timeout_s`` bounds the time spent and ``max_steps`` the search steps
(deterministically); either gives the verdict ``"unknown"`` when reached.

>>> from distlab.history import History
>>> h = History.from_events([
...     (0, "a", "invoke", "write", None, 1), (1, "a", "ok", "write", None, 1),
...     (2, "b", "invoke", "read", None, None), (3, "b", "ok", "read", None, None),
... ])
>>> r = check_linearizable(h, model="register")
>>> r.verdict
'not-linearizable'
>>> print(r.explanation.splitlines()[0])
Not linearizable: #1 process 'b': read returned nil, ok [2 .. 3] cannot be placed anywhere.

Modules: :mod:`~distlab.linearizability.models` (the :class:`Model` interface and the register,
cas-register and kv models), :mod:`~distlab.linearizability.search` (the search for one register
or key), :mod:`~distlab.linearizability.explain` (verdicts in words),
:mod:`~distlab.linearizability.check` (:func:`check_linearizable`: budgets, keys, the result).
"""

from distlab.linearizability.check import VERDICTS, LinearizabilityResult, check_linearizable
from distlab.linearizability.models import CAS_REGISTER, KV, MODELS, REGISTER, Model

__all__ = [
    "CAS_REGISTER",
    "KV",
    "MODELS",
    "REGISTER",
    "VERDICTS",
    "LinearizabilityResult",
    "Model",
    "check_linearizable",
]
