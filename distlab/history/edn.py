"""A small EDN reader, enough for Jepsen's histories: maps, vectors, lists, strings, keywords, nil,
booleans and numbers.

Keywords read as plain strings (``:ok`` -> ``'ok'``), vectors and lists as tuples. Anything else
(symbols, tags, ``inf``/``nan`` spelled as words) is an error that says what was found.

>>> parse_edn('{:process 0, :type :invoke, :f :cas, :value [1 2]}')
{'process': 0, 'type': 'invoke', 'f': 'cas', 'value': (1, 2)}
>>> parse_edn('{:process')
Traceback (most recent call last):
ValueError: unclosed '{'
"""

from __future__ import annotations

import re
from typing import Any

from distlab._validate import is_hashable

__all__ = ["parse_edn"]

_TOKEN = re.compile(r'\s*(?:,\s*)*(?:("(?:[^"\\]|\\.)*")|([\[\]{}()])|([^\s,\[\]{}()"]+))')
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_INTEGER = re.compile(r"[+-]?\d+")
_CLOSE = {"[": "]", "(": ")", "{": "}"}
_STRING_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
#: deepest nesting read (a guard against a line of ten thousand brackets)
MAX_DEPTH = 50


def parse_edn(text: str) -> Any:
    """One EDN value from ``text`` (``ValueError`` saying what is wrong if it is not one)."""
    if not isinstance(text, str):
        raise TypeError(f"text={text!r} must be a str")
    tokens = _tokens(text.strip())
    value, end = _value(tokens, 0, 0)
    if end != len(tokens):
        raise ValueError(f"trailing data after the value: {tokens[end][1]!r}")
    return value


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip(" ,\t") == "":
                break
            raise ValueError(f"unexpected {text[pos : pos + 10]!r}")
        pos = m.end()
        if m.group(1) is not None:
            tokens.append(("s", m.group(1)))
        elif m.group(2) is not None:
            tokens.append(("p", m.group(2)))
        else:
            tokens.append(("a", m.group(3)))
    if not tokens:
        raise ValueError("no value")
    return tokens


def _value(tokens: list[tuple[str, str]], i: int, depth: int) -> tuple[Any, int]:
    if i >= len(tokens):
        raise ValueError("unexpected end")
    kind, tok = tokens[i]
    if kind == "s":
        text = re.sub(r"\\(.)", lambda m: _STRING_ESCAPES.get(m.group(1), m.group(1)), tok[1:-1])
        return text, i + 1
    if kind == "p":
        return _collection(tokens, i, depth)
    return _atom(tok), i + 1


def _collection(tokens: list[tuple[str, str]], i: int, depth: int) -> tuple[Any, int]:
    tok = tokens[i][1]
    if tok not in _CLOSE:
        raise ValueError(f"unexpected {tok!r}")
    if depth >= MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    items = []
    i += 1
    while True:
        if i >= len(tokens):
            raise ValueError(f"unclosed {tok!r}")
        if tokens[i] == ("p", _CLOSE[tok]):
            break
        item, i = _value(tokens, i, depth + 1)
        items.append(item)
    if tok != "{":
        return tuple(items), i + 1
    if len(items) % 2:
        raise ValueError("a map needs an even number of forms")
    keys = items[::2]
    for key in keys:
        if not is_hashable(key):
            raise ValueError(f"a map key must be a plain value, got {key!r}")
    return dict(zip(keys, items[1::2])), i + 1


def _atom(tok: str) -> Any:
    if tok == "nil":
        return None
    if tok in ("true", "false"):
        return tok == "true"
    if tok.startswith(":") and len(tok) > 1:
        return tok[1:]
    if _INTEGER.fullmatch(tok):
        return int(tok)
    if _NUMBER.fullmatch(tok):
        return float(tok)
    raise ValueError(f"unknown token {tok!r}")
