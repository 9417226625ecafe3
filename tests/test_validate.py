"""distlab._validate: the argument checks every public callable shares."""

import numpy as np
import pytest

from distlab._validate import check_bool


@pytest.mark.parametrize("flag", [True, False, np.bool_(True), np.array([0])[0] == 0])
def test_check_bool_accepts_python_and_numpy_bools(flag):
    assert check_bool("flag", flag) is bool(flag)


@pytest.mark.parametrize("value", ["false", "no", 0, 1, None, 1.0, [True]])
def test_check_bool_never_coerces(value):
    with pytest.raises(TypeError, match=r"flag=.* must be True or False"):
        check_bool("flag", value)
