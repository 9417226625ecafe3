"""The examples in distlab.retry's docstrings stay true (also run by
``pytest --doctest-modules distlab/retry.py``)."""

from __future__ import annotations

import doctest

import distlab.retry


def test_docstring_examples():
    result = doctest.testmod(distlab.retry, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 15
    assert result.failed == 0
