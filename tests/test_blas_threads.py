"""Sampling runs BLAS on one thread and restores the previous setting afterwards."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bayesgen.sampler import blas_threads
from bayesgen.sampler.blas_threads import blas_thread_counts, single_threaded_blas


@pytest.fixture
def two_blas_threads():
    """BLAS on two threads for the test (the setting under test must differ from 1)."""
    np.ones(2) @ np.ones(2)  # make sure numpy's BLAS is loaded
    if not blas_thread_counts():
        pytest.skip("no BLAS library found by threadpoolctl in this process")
    with threadpool_limits(limits=2, user_api="blas"):
        yield blas_thread_counts()


def test_single_threaded_blas_sets_one_thread_and_restores_nested(two_blas_threads):
    before = two_blas_threads
    assert before == [2] * len(before)
    with single_threaded_blas():
        assert blas_thread_counts() == [1] * len(before)
        with single_threaded_blas():  # a run started inside another
            assert blas_thread_counts() == [1] * len(before)
        assert blas_thread_counts() == [1] * len(before)  # the inner run's end does not restore
        a = np.arange(20_000.0)
        assert float(a @ a) == pytest.approx(float(np.einsum("i,i->", a, a)))
    assert blas_thread_counts() == before
    assert blas_threads._depth == 0


def test_single_threaded_blas_restores_after_an_error(two_blas_threads):
    before = two_blas_threads
    with pytest.raises(RuntimeError, match="inside"):
        with single_threaded_blas():
            raise RuntimeError("inside")
    assert blas_thread_counts() == before
    assert blas_threads._depth == 0
