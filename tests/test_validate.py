"""distlab._validate: the argument checks every public callable shares."""

import numpy as np
import pytest

from distlab._validate import check_bool, check_choices


@pytest.mark.parametrize("flag", [True, False, np.bool_(True), np.array([0])[0] == 0])
def test_check_bool_accepts_python_and_numpy_bools(flag):
    assert check_bool("flag", flag) is bool(flag)


@pytest.mark.parametrize("value", ["false", "no", 0, 1, None, 1.0, [True]])
def test_check_bool_never_coerces(value):
    with pytest.raises(TypeError, match=r"flag=.* must be True or False"):
        check_bool("flag", value)


NAMES = ("a", "b", "c")


@pytest.mark.parametrize("value", [["c", "a"], ("c", "a"), iter(["c", "a"])])
def test_check_choices_keeps_the_order_given(value):
    assert check_choices("variants", value, NAMES) == ("c", "a")


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"a", "b"}, TypeError, r"variants=.* must be a list or tuple of names, in the order"),
        (frozenset({"a"}), TypeError, r"variants=frozenset.* must be a list or tuple"),
        ({"a": 1}, TypeError, r"variants=\{'a': 1\} must be a list or tuple"),
        (3, TypeError, r"variants=3 must be a list of names"),
        (["a", 3], TypeError, r"variants item=3 must be a name, one of 'a', 'b', 'c'"),
        (["a", "d"], ValueError, r"variants item='d' is not one of 'a', 'b', 'c'"),
        ([], ValueError, r"variants=\(\) is empty"),
        (["b", "b"], ValueError, r"variants=\('b', 'b'\) names a variant twice"),
    ],
)
def test_check_choices_refuses_by_name(value, error, message):
    with pytest.raises(error, match=message):
        check_choices("variants", value, NAMES, noun="a variant")
