"""first_max: the predicted category's index, against numpy's argmax over the NaN-masked rows."""
from __future__ import annotations

import numpy as np
import pytest

from portmodel.pmml.models.first_max import first_max


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("n", [0, 1, 1000])
def test_first_max_is_the_masked_argmax(k, n):
    """Ties (the first wins), NaN (never wins; a row of NaN gives 0), infinities and -0.0 vs 0.0
    (equal) give what np.argmax over the rows with NaN replaced by -inf gives."""
    rng = np.random.default_rng(k * 100 + n)
    m = rng.choice([0.0, -0.0, 0.25, 0.5, 1.0, np.nan, np.inf, -np.inf], size=(n, k),
                   p=[0.1, 0.1, 0.2, 0.2, 0.2, 0.1, 0.05, 0.05])
    if n:
        m[0] = np.nan                                    # a row with no value at all
    want = np.argmax(np.where(np.isnan(m), -np.inf, m), axis=1)
    got = first_max([np.ascontiguousarray(m[:, j]) for j in range(k)])
    assert got.dtype == np.intp
    np.testing.assert_array_equal(got, want)


def test_first_max_leaves_its_columns_alone():
    a = np.array([np.nan, 1.0, 2.0])
    b = np.array([0.5, 3.0, 1.0])
    c = np.array([0.7, 3.0, 5.0])
    copies = [x.copy() for x in (a, b, c)]
    np.testing.assert_array_equal(first_max([a, b, c]), [2, 1, 2])
    for x, y in zip((a, b, c), copies):
        np.testing.assert_array_equal(x, y)
