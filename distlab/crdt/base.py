"""What every state-based CRDT here shares: value semantics, JSON, pickling, and checks.

A :class:`CRDT` is an immutable value. Updates return a new state; :meth:`CRDT.merge` returns the
least upper bound of two states (commutative, associative, idempotent), so replicas that
exchange states in any order, with losses, resends and duplicates, converge. Two states are
equal when their contents are; each type's state is a plain, JSON-able dict
(:meth:`CRDT.to_data`), and ``to_json`` / ``from_json`` write and read it with the type's name.

>>> from distlab.crdt import GCounter
>>> c = GCounter().increment("a", 2)
>>> c.to_json()
'{"type": "g_counter", "counts": {"a": 2}}'
>>> GCounter.from_json(c.to_json()) == c
True
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

from distlab.clocks.codec import check_process, load_json_object

__all__ = ["CRDT", "check_amount", "check_element", "check_json_value", "check_replica"]


def check_replica(name: str, value: Any) -> str:
    """A replica's name: non-empty text.

    >>> check_replica("replica", 3)
    Traceback (most recent call last):
    TypeError: replica=3 must be a process name (str)
    """
    return check_process(name, value)


def check_amount(name: str, value: Any) -> int:
    """A count to add: an int >= 0 (not a bool).

    >>> check_amount("amount", -1)
    Traceback (most recent call last):
    ValueError: amount=-1 must be an int >= 0
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}={value!r} must be an int >= 0")
    if value < 0:
        raise ValueError(f"{name}={value} must be an int >= 0")
    return int(value)


def check_element(name: str, value: Any) -> str | int:
    """A set element: a str or an int (not a bool), so it survives JSON unchanged.

    >>> check_element("element", 1.5)
    Traceback (most recent call last):
    TypeError: element=1.5 must be a str or an int
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name}={value!r} must be a str or an int")
    return value


def check_json_value(name: str, value: Any) -> Any:
    """A register's value: anything JSON writes and reads back equal (None, bool, int, finite
    float, str, and lists and str-keyed dicts of those).

    >>> check_json_value("value", (1, 2))
    Traceback (most recent call last):
    TypeError: value=(1, 2) must be JSON data (None, bool, int, float, str, list, dict)
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name}={value!r} must be a finite number")
        return value
    if isinstance(value, list):
        return [check_json_value(f"{name}[{i}]", v) for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: check_json_value(f"{name}[{k!r}]", v) for k, v in value.items()}
    raise TypeError(f"{name}={value!r} must be JSON data (None, bool, int, float, str, list, dict)")


class CRDT:
    """Base of the state-based CRDTs: equality, hashing, ``repr``, JSON and pickling from
    ``to_data`` / ``from_data``, which each type defines.

    >>> from distlab.crdt import ORSet
    >>> s = ORSet().add("x", "a")
    >>> s
    ORSet.from_data({'adds': [['x', [['a', 1]]]], 'removed': []})
    >>> ORSet.from_data(s.to_data()) == s, isinstance(s, CRDT)
    (True, True)
    """

    __slots__ = ()
    #: The name written in JSON as ``"type"``.
    TYPE: ClassVar[str] = ""

    def to_data(self) -> dict[str, Any]:  # pragma: no cover - every type overrides
        """The state as plain JSON-able data (without the type name)."""
        raise NotImplementedError

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CRDT:  # pragma: no cover - every type overrides
        """The state from :meth:`to_data`'s output (validated)."""
        raise NotImplementedError

    def merge(self, other: Any) -> CRDT:  # pragma: no cover - every type overrides
        """The least upper bound of this state and ``other`` (same type)."""
        raise NotImplementedError

    def check_same_type(self, other: Any) -> None:
        """``TypeError`` unless ``other`` is of this state's type."""
        if type(other) is not type(self):
            raise TypeError(f"other={other!r} must be a {type(self).__name__} to merge")

    def to_json(self) -> str:
        """``{"type": ..., **to_data()}`` as text (keys sorted inside the state)."""
        return json.dumps({"type": self.TYPE, **self.to_data()})

    @classmethod
    def from_json(cls, text: str | bytes) -> CRDT:
        """Read what :meth:`to_json` wrote; the type name must be this class's."""
        data = load_json_object("text", text)
        if data.pop("type", None) != cls.TYPE:
            raise ValueError(
                f"text={text!r} is not a {cls.__name__} (its type is not {cls.TYPE!r})"
            )
        try:
            return cls.from_data(data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"text={text!r} is not a valid {cls.__name__}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_data() == other.to_data()

    def __hash__(self) -> int:
        return hash((self.TYPE, json.dumps(self.to_data(), sort_keys=True)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}.from_data({self.to_data()!r})"

    def __reduce__(self):
        return (type(self).from_data, (self.to_data(),))
