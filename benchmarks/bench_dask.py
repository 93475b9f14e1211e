"""Wall time of 4 chains on a Dask LocalCluster of 2 worker processes against one process.

Run:  python benchmarks/bench_dask.py [--draws 1000] [--rounds 2]   (needs pip install bayesgen[dask])

The quickstart, ``models/animal.toml`` (1,100 animals, collapsed sampler), 4 chains x ``draws``
after 500 burn-in, sampled in one process on one core (``cores=1``), in one process with
two threads (``cores=2``, the default on 2 cores) and as 4 tasks on a LocalCluster of 2 worker
processes with one thread each, interleaved over ``--rounds`` rounds after a warm-up of each
(numba's compiled kernels loaded on the workers). Checks that the cluster's draws equal the
local ones, and prints the ratios of the wall times of the same round and the load average
(the machine is shared).
"""

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

from bayesgen.cli.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    model = load_spec(ROOT / "models" / "animal.toml").model
    options = dict(draws=args.draws, burn=500, chains=4, seed=1, progress=False, check_convergence=False)
    print(f"{model}; 4 chains x {args.draws} draws after 500 burn-in")
    print(f"load average at start: {os.getloadavg()}")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        model.sample(**dict(options, draws=5, burn=5), client=client)  # warm-up: imports and kernels on the workers
        model.sample(**dict(options, draws=5, burn=5))
        for r in range(args.rounds):
            times = {}
            for label, extra in (
                ("1 process, 1 core", dict(cores=1)),
                ("1 process, 2 threads", dict(cores=2)),
                ("2 Dask workers", dict(client=client)),
            ):
                started = time.perf_counter()
                idata = model.sample(**options, **extra)
                times[label] = time.perf_counter() - started
                if label == "1 process, 1 core":
                    reference = idata.posterior["sigma2_a"].values
                else:
                    assert np.array_equal(idata.posterior["sigma2_a"].values, reference), label
            base = times["1 process, 1 core"]
            print(
                f"round {r}: "
                + "; ".join(f"{k} {v:.1f} s ({base / v:.2f}x)" for k, v in times.items())
                + f"; load {os.getloadavg()[0]:.1f}"
            )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
