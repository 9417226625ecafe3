"""The examples in distlab.clocks's docstrings stay true (also run by
``pytest --doctest-modules distlab/clocks``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import distlab.clocks


def test_docstring_examples():
    attempted = 0
    for info in pkgutil.iter_modules(distlab.clocks.__path__, "distlab.clocks."):
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, info.name
        attempted += result.attempted
    result = doctest.testmod(distlab.clocks)
    assert result.failed == 0
    assert attempted + result.attempted >= 60
