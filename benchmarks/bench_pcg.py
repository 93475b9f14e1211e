"""The perturbation-optimisation (PCG) joint location route against single-site at scale (issue 21, item 3).

Simulates a random-mating pedigree (``bg.simulate``: ``--animals``/10 founders and 9 generations
of as many, infinitesimal breeding values, h2 = 0.4) and keeps the phenotypes of the last
``--records`` animals; fits ``y ~ 1 + sex + animal`` with ``sampler="pcg"`` and with
``sampler="single-site"``, one chain each (``store="summary"``, one BLAS thread), each for about
``--seconds`` of sampling after ``--burn`` iterations, and prints for each: seconds per iteration,
PCG iterations per draw, the bulk ESS of h2 and its ESS per second (of the whole ``sample`` call,
burn-in included), then their ratio, the posterior means of h2, sigma2_a and sigma2_e of the two
routes with their MCSE and the z-score of the difference, peak RSS and the load average.

``--timing-only`` builds the PCG model and times ``--steps`` Gibbs iterations (for 1,000,000 animals).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_pcg.py [--animals 200000] [--records 100000] [--seconds 600]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_pcg.py --animals 1000000 --records 500000 --timing-only
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def pilot(bg, model, steps: int) -> float:
    """Median seconds of one Gibbs iteration (after two to compile and move off the start)."""
    from bayesgen.sampler import Gibbs
    from bayesgen.sampler.blas_threads import single_threaded_blas

    with single_threaded_blas():
        gibbs = Gibbs(model)
        rng = np.random.default_rng(0)
        chain = gibbs.init(rng)
        for _ in range(2):
            gibbs.step(rng, chain)
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            gibbs.step(rng, chain)
            times.append(time.perf_counter() - t)
    return float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--animals", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=600.0, help="sampling time per route (about)")
    parser.add_argument("--burn", type=int, default=50)
    parser.add_argument("--steps", type=int, default=5, help="pilot iterations")
    # burn-in: at least --burn iterations and a tenth of the draws
    parser.add_argument("--timing-only", action="store_true")
    args = parser.parse_args()
    import arviz as az

    import bayesgen as bg

    print(
        f"{' '.join(sys.argv)}\n{os.cpu_count()} cores; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; {load()}"
    )
    t = time.perf_counter()
    per_generation = args.animals // 10
    sim = bg.simulate(
        n_founders=per_generation, n_generations=9, n_offspring=per_generation, n_markers=0, h2=0.4, seed=1
    )
    pedigree = sim.pedigree_object()
    data = sim.phenotypes.iloc[-args.records :]
    print(f"simulated {len(pedigree)} animals, {len(data)} records in {time.perf_counter() - t:.0f} s; {load()}")

    results = {}
    for sampler in ("pcg",) if args.timing_only else ("pcg", "single-site"):
        t = time.perf_counter()
        model = bg.AnimalModel(data, "y", "id", pedigree, fixed=["sex"], sampler=sampler)
        built = time.perf_counter() - t
        seconds = pilot(bg, model, args.steps)
        detail = ""
        if sampler == "pcg":
            block = model.blocks[0]
            detail = f", {block.mme.n_equations} equations, nnz(C) {block.mme.pattern.nnz}"
        print(
            f"{sampler}: built in {built:.1f} s{detail}; {1e3 * seconds:.1f} ms per Gibbs iteration (median of "
            f"{args.steps}); peak RSS {rss_gb():.2f} GB; {load()}"
        )
        if args.timing_only:
            continue
        draws = max(int(args.seconds / seconds), 100)
        burn = max(args.burn, draws // 10)  # the same share of each route's run
        t = time.perf_counter()
        idata = model.sample(
            draws=draws,
            burn=burn,
            chains=1,
            seed=2,
            progress=False,
            store="summary",
            check_convergence=False,
            init="default",
        )
        wall = time.perf_counter() - t
        h2 = idata.posterior["h2"].values
        ess = float(az.ess(h2, method="bulk"))
        line = (
            f"{sampler}: {burn} + {draws} iterations in {wall:.0f} s ({1e3 * wall / (burn + draws):.1f} ms "
            f"each), h2 bulk ESS {ess:.0f} ({100 * ess / draws:.2f}% of draws), ESS/s {ess / wall:.3f}"
        )
        if sampler == "pcg":
            iterations = idata.sample_stats["pcg_iterations"].values
            line += f", PCG iterations per draw mean {iterations.mean():.0f} (max {iterations.max():.0f})"
        print(line + f"; {load()}")
        results[sampler] = (idata, ess / wall)
    if not args.timing_only:
        ratio = results["pcg"][1] / results["single-site"][1]
        print(f"h2 ESS per second, PCG / single-site: {ratio:.2f} (target >= 5)")
        for name in ("h2", "sigma2_a", "sigma2_e"):
            means, errors = [], []
            for sampler in ("pcg", "single-site"):
                values = results[sampler][0].posterior[name]
                means.append(float(values.mean()))
                errors.append(float(az.mcse(values, method="mean")[name]))
            z = (means[0] - means[1]) / np.hypot(*errors)
            print(
                f"  {name}: PCG {means[0]:.4f} (MCSE {errors[0]:.4f}), single-site {means[1]:.4f} "
                f"(MCSE {errors[1]:.4f}), z = {z:.2f}"
            )
    print(f"peak RSS {rss_gb():.2f} GB; {load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
