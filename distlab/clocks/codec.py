"""Checks shared by the timestamp readers: process names, JSON objects, bytes.

>>> load_json_object("text", '{"l": 1, "c": 0}', ("l", "c"))
{'l': 1, 'c': 0}
>>> load_json_object("text", '{"l": 1}', ("l", "c"))
Traceback (most recent call last):
ValueError: text='{"l": 1}' must be a JSON object with exactly the keys l, c
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["check_process", "load_json_object", "parsed", "require_bytes"]


def check_process(name: str, value: Any) -> str:
    """Return ``value`` if it is a non-empty process name (text)."""
    if not isinstance(value, str):
        raise TypeError(f"{name}={value!r} must be a process name (str)")
    if not value:
        raise ValueError(f"{name}='' must be a non-empty process name")
    return value


def require_bytes(name: str, value: Any) -> bytes:
    """Return ``value`` as ``bytes`` if it is bytes-like."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}={value!r} must be bytes")
    return bytes(value)


def load_json_object(name: str, text: Any, keys: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``text`` as a JSON object; with ``keys``, it must have exactly those keys."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode()
        except UnicodeDecodeError as exc:
            raise ValueError(f"{name}={text!r} is not UTF-8") from exc
    if not isinstance(text, str):
        raise TypeError(f"{name}={text!r} must be JSON text (str or bytes)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}={text!r} is not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or (keys is not None and set(data) != set(keys)):
        wanted = f" with exactly the keys {', '.join(keys)}" if keys is not None else ""
        raise ValueError(f"{name}={text!r} must be a JSON object{wanted}")
    return data


def parsed(name: str, source: Any, factory: Callable[..., Any], *args: Any) -> Any:
    """``factory(*args)`` for values read from ``source``: a wrongly typed field is a malformed
    input there, so its ``TypeError`` becomes a ``ValueError`` that quotes ``source``."""
    try:
        return factory(*args)
    except TypeError as exc:
        raise ValueError(f"{name}={source!r} is malformed: {exc}") from exc
