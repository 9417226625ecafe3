"""What a single copy of the data would answer: the models a history is checked against.

A :class:`Model` is Porcupine's interface in Python: ``init()`` gives the initial state,
``step(state, op)`` says whether ``op`` could have happened in ``state`` with the answer it got and
gives the state after it, ``describe(state)`` puts a state in words. The checker needs nothing
else; a model may also say which operations never change the state (``is_pure``: placed at once,
without branching), which constrain nothing (``constrains``), give a fast form of ``step``
(``compile``) and find an impossible read without a search (``impossible``).

How an operation's type enters ``step``: an ``ok`` or ``info`` operation is stepped as if it took
effect (an ``info`` one may also never take effect: the search decides); a ``fail`` operation did
not take effect, and the checker leaves it out, except a refused compare-and-set, whose refusal
``step`` checks (the value really differed).

>>> from distlab.history import Operation
>>> write = Operation(0, 1, "write", None, 3, None, "ok", 0.0, 1.0)
>>> read = Operation(1, 2, "read", None, None, 3, "ok", 2.0, 3.0)
>>> REGISTER.step(REGISTER.init(), write)
(True, 3)
>>> REGISTER.step(3, read), REGISTER.step(None, read)
((True, 3), (False, None))
>>> REGISTER.describe(None)
'nil (never written)'

Instances: :data:`REGISTER` (read, write), :data:`CAS_REGISTER` (read, write, cas), :data:`KV`
(get, put, append, one register per key, checked key by key); :data:`MODELS` maps their names.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

from distlab._validate import is_hashable
from distlab.history import Operation

__all__ = ["CAS_REGISTER", "KV", "MODELS", "REFUSED", "REGISTER", "Model", "Step"]


class _Refused:
    __slots__ = ()

    def __repr__(self) -> str:
        return "REFUSED"


#: What a compiled step returns when the model refuses the operation in that state.
REFUSED: Any = _Refused()


class Step(NamedTuple):
    """The fast form of ``Model.step`` for one operation (see :meth:`Model.compile`).

    ``pure``: the operation never changes the state, and ``fn(state)`` says whether the model
    accepts it there (a bool); otherwise ``fn(state)`` is the state after it, or :data:`REFUSED`.
    """

    pure: bool
    fn: Callable[[Any], Any]


class Model:
    """A sequential specification, Porcupine-style: subclass and give ``init``, ``step``,
    ``describe``; the other methods have defaults that are always correct (if slower).

    ``name`` is what ``check_linearizable(model=...)`` accepts, ``functions`` the operations it
    knows, ``noun`` what its state is called in explanations, ``keyed`` whether keys are
    independent (the checker then splits the history per key: P-compositionality).
    """

    name: str = "model"
    functions: tuple[str, ...] = ()
    noun: str = "state"
    keyed: bool = False

    def init(self) -> Any:
        """The state before any operation."""
        raise NotImplementedError

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        """``(True, state after op)`` if ``op`` could happen in ``state`` with its answer, else
        ``(False, state)``."""
        raise NotImplementedError

    def describe(self, state: Any) -> str:
        """A state in words, for explanations."""
        return repr(state)

    def why_refused(self, state: Any, op: Operation) -> str:
        """Why ``step`` refuses ``op`` in ``state``, in words."""
        return f"the {self.noun} holds {self.describe(state)}"

    def check(self, op: Operation) -> None:
        """Raise ``ValueError`` naming ``op`` if this model cannot check it."""
        if op.f not in self.functions:
            raise ValueError(
                f"operation {op.describe()}: function {op.f!r} is not part of the "
                f"{self.name!r} model, which has {', '.join(self.functions)}"
            )

    def constrains(self, op: Operation) -> bool:
        """False for an operation that can be left out (it constrains nothing)."""
        return op.type != "fail"

    def is_pure(self, op: Operation) -> bool:
        """True if ``op`` never changes the state (the search places it without branching)."""
        return False

    def compile(self, op: Operation) -> Step:
        """``op``'s step as one fast function (the default wraps :meth:`step`)."""
        step = self.step
        if self.is_pure(op):
            return Step(True, lambda state: step(state, op)[0])
        return Step(False, lambda state: (lambda ok, new: new if ok else REFUSED)(*step(state, op)))

    def impossible(self, ops: Sequence[Operation]) -> tuple[Operation, str] | None:
        """An operation no order can place, found without a search, and why (completing
        "<operation> ..."); or None."""
        return None

    def __repr__(self) -> str:
        return f"<model {self.name!r}>"


def _nil(x: Any) -> str:
    return "nil (never written)" if x is None else repr(x)


class Register(Model):
    """One register, initially ``None`` (never written): ``read`` and ``write``; with
    ``cas=True`` also ``cas`` (``value=(expected, new)``; a ``fail`` cas was refused because the
    register did not hold ``expected``).

    >>> CAS_REGISTER.step(1, Operation(0, 1, "cas", None, (1, 2), None, "ok", 0.0, 1.0))
    (True, 2)
    """

    noun = "register"

    def __init__(self, *, cas: bool) -> None:
        self.name = "cas-register" if cas else "register"
        self.functions = ("read", "write", "cas") if cas else ("read", "write")

    def init(self) -> Any:
        return None

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        if op.f in ("read", "get"):
            return state == self.read_result(op), state
        if op.f == "cas":
            expected, new = op.value
            if op.type == "fail":
                return state != expected, state
            return (True, new) if state == expected else (False, state)
        return True, op.value

    def read_result(self, op: Operation) -> Any:
        """What an ``ok`` read says the register held."""
        return op.result

    def describe(self, state: Any) -> str:
        return _nil(state)

    def why_refused(self, state: Any, op: Operation) -> str:
        held = f"the {self.noun} holds {self.describe(state)}"
        if op.f == "cas" and op.type == "fail":
            return f"it was refused, but {held}, so it would have succeeded"
        if op.f == "cas":
            return f"it needs {_nil(op.value[0])} to succeed but {held}"
        return f"it needs {_nil(self.read_result(op))} but {held}"

    def check(self, op: Operation) -> None:
        if op.f == "cas" and "cas" not in self.functions:
            raise ValueError(
                f"operation {op.describe()}: function 'cas' is not part of the "
                f"{self.name!r} model, which has {', '.join(self.functions)} "
                "(use model='cas-register')"
            )
        super().check(op)
        if not self.keyed and op.key is not None:
            raise ValueError(
                f"operation {op.describe()}: has key {op.key!r}, but the {self.name!r} "
                "model checks one register (use model='kv', or History.for_key(key) "
                "for one key)"
            )
        for name in ("value", "result"):
            if not is_hashable(getattr(op, name)):
                raise ValueError(
                    f"operation {op.describe()}: {name} {getattr(op, name)!r} is not "
                    "hashable (use tuples, not lists)"
                )

    def constrains(self, op: Operation) -> bool:
        if op.f in ("read", "get"):
            return op.type == "ok"  # a failed read, or one with no answer, constrains nothing
        return op.type != "fail" or op.f == "cas"  # a refused cas is an answer

    def is_pure(self, op: Operation) -> bool:
        return op.f in ("read", "get") or (op.f == "cas" and op.type == "fail")

    def compile(self, op: Operation) -> Step:
        if op.f in ("read", "get"):
            return Step(True, partial(operator.eq, self.read_result(op)))
        if op.f == "cas":
            expected, new = op.value
            if op.type == "fail":
                return Step(True, partial(operator.ne, expected))
            return Step(False, lambda state: new if state == expected else REFUSED)
        return self.compile_update(op)

    def compile_update(self, op: Operation) -> Step:
        value = op.value
        return Step(False, lambda state: value)

    def impossible(self, ops: Sequence[Operation]) -> tuple[Operation, str] | None:
        """A read (or successful cas) that needs a value no operation invoked before it completed
        could have written."""
        first: dict[Any, float] = {}  # value -> earliest invocation of an operation writing it
        for op in ops:
            f = op.f
            if f in ("write", "put") or (f == "cas" and op.type != "fail"):
                written = op.value if f != "cas" else op.value[1]
                if op.invoke < first.get(written, math.inf):
                    first[written] = op.invoke
        init = self.init()
        for op in ops:
            if op.f in ("read", "get"):
                needed = self.read_result(op)
            elif op.f == "cas" and op.type == "ok":
                needed = op.value[0]
            else:
                continue
            if needed == init or first.get(needed, math.inf) <= op.complete:
                continue
            when = (
                f"no operation ever writes {_nil(needed)}"
                if needed not in first
                else f"the first operation that could write {_nil(needed)} was invoked at "
                f"{first[needed]:g}, after this one completed"
            )
            return op, f"needs the {self.noun} to hold {_nil(needed)} while it runs, but {when}"
        return None


class KeyValue(Register):
    """A key-value store of strings: ``get``, ``put``, ``append``; every key starts as ``""`` (a get
    of a missing key returns ``""``; a get that returned ``None`` is read as ``""``). Keys are
    independent: the checker checks each on its own.

    >>> KV.step("a", Operation(0, 1, "append", "k", "b", None, "ok", 0.0, 1.0))
    (True, 'ab')
    """

    name = "kv"
    functions = ("get", "put", "append")
    noun = "key"
    keyed = True

    def __init__(self) -> None:
        pass

    def init(self) -> Any:
        return ""

    def read_result(self, op: Operation) -> Any:
        return "" if op.result is None else op.result

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        if op.f == "append":
            return True, state + op.value
        return super().step(state, op)

    def describe(self, state: Any) -> str:
        return repr(state)

    def check(self, op: Operation) -> None:
        super().check(op)
        if op.f == "append" and op.type != "fail" and not isinstance(op.value, str):
            raise ValueError(
                f"operation {op.describe()}: append needs a str value, got {op.value!r}"
            )

    def compile_update(self, op: Operation) -> Step:
        value = op.value
        if op.f == "append":
            return Step(False, lambda state: state + value)
        return Step(False, lambda state: value)

    def impossible(self, ops: Sequence[Operation]) -> tuple[Operation, str] | None:
        return None  # appends build values no single operation writes


REGISTER = Register(cas=False)
CAS_REGISTER = Register(cas=True)
KV = KeyValue()
MODELS: dict[str, Model] = {m.name: m for m in (REGISTER, CAS_REGISTER, KV)}
