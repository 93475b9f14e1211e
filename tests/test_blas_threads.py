"""Sampling runs BLAS on one thread and restores the previous setting afterwards."""

import numpy as np
import pytest

from bayesgen.sampler import blas_threads
from bayesgen.sampler.blas_threads import blas_thread_counts, single_threaded_blas


def test_single_threaded_blas_sets_one_thread_and_restores_nested():
    pytest.importorskip("numpy")
    before = blas_thread_counts()
    if not before:
        pytest.skip("no OpenBLAS library found in this process")
    try:
        import threadpoolctl  # noqa: F401
        pytest.skip("threadpoolctl installed: its threadpool_limits is used instead")
    except ImportError:
        pass
    with single_threaded_blas():
        assert blas_thread_counts() == [1] * len(before)
        with single_threaded_blas():  # a run started inside another
            assert blas_thread_counts() == [1] * len(before)
        assert blas_thread_counts() == [1] * len(before)
        a = np.arange(20_000.0)
        assert float(a @ a) == pytest.approx(float(np.einsum("i,i->", a, a)))
    assert blas_thread_counts() == before
    assert blas_threads._depth == 0


def test_single_threaded_blas_restores_after_an_error():
    before = blas_thread_counts()
    with pytest.raises(RuntimeError, match="inside"):
        with single_threaded_blas():
            raise RuntimeError("inside")
    assert blas_thread_counts() == before
