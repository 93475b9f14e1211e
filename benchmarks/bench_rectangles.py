"""The pointwise log-likelihood's normal rectangles: milliseconds per 1,000 records, and the ratio of
a trivariate rectangle to a bivariate one over the same records.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_rectangles.py [--records 1000] [--repeats 20]

Three kinds of records, as a Gaussian trait's residual leaves them (standardised bounds drawn
around 0): binary categories (half-lines: one orthant each), finite intervals (ordinal middle
categories: up to eight orthants), and far-tail records (probability below 1e-7, which take the
log-scale integral). Per kind: the median over repeats of ``log_trivariate_normal_rectangle``
and of ``log_bivariate_normal_rectangle`` on the first two coordinates, and their ratio. The
load average is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bayesgen.likelihoods.bivariate_normal import log_bivariate_normal_rectangle  # noqa: E402
from bayesgen.likelihoods.trivariate_normal import log_trivariate_normal_rectangle  # noqa: E402

CORR = np.array([[1.0, 0.45, -0.3], [0.45, 1.0, 0.35], [-0.3, 0.35, 1.0]])


def records(kind: str, n: int, rng: np.random.Generator):
    if kind == "binary":
        cut = rng.normal(0.0, 0.8, (n, 3))
        above = rng.random((n, 3)) < 0.5
        return np.where(above, cut, -np.inf), np.where(above, np.inf, cut)
    if kind == "finite":
        lower = rng.normal(-0.6, 0.5, (n, 3))
        return lower, lower + rng.uniform(0.5, 1.5, (n, 3))
    lower = rng.normal(4.0, 0.3, (n, 3))  # three categories each ~4 sd out: P ~ 1e-10
    return lower, np.full((n, 3), np.inf)


def median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    print(f"load average {open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'}")
    for kind, n in (("binary", args.records), ("finite", args.records), ("tail", max(args.records // 100, 1))):
        lower, upper = records(kind, n, rng)
        repeats = args.repeats if kind != "tail" else max(args.repeats // 10, 2)
        log_trivariate_normal_rectangle(lower, upper, CORR)  # warm the numba kernels
        three = median_seconds(lambda: log_trivariate_normal_rectangle(lower, upper, CORR), repeats)
        two = median_seconds(
            lambda: log_bivariate_normal_rectangle(lower[:, 0], upper[:, 0], lower[:, 1], upper[:, 1], CORR[0, 1]),
            repeats,
        )
        print(
            f"{kind:7s} {n:5d} records: trivariate {1e3 * three / n * 1000:8.2f} ms per 1,000, bivariate "
            f"{1e3 * two / n * 1000:8.2f} ms per 1,000, ratio {three / two:6.2f}"
        )
    print(f"load average {open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'}")


if __name__ == "__main__":
    main()
