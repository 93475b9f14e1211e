"""The animal model at scale (issue 10, item 6): 200,000 animals in the pedigree, 100,000 records.

Simulates a random-mating pedigree (``bg.simulate``: 20,000 founders and 9 generations of
20,000, infinitesimal breeding values, h2 = 0.4) and keeps the phenotypes of the last
100,000 animals. Then, for ``y ~ 1 + sex + animal``:

* the single-site sampler: seconds per Gibbs iteration (``Gibbs.step``; wall and process
  CPU time, minimum and median over ``--steps`` iterations; on a shared machine the CPU
  time is the one that does not count other agents' load), the animal sweep kernel and
  the variance update's quadratic form alone (the sweep returns it from the same pass),
  the rescaling move, and recording one kept draw (``store="summary"`` and ``"full"``);
  then one chain of ``--draws`` draws through ``model.sample`` (``store="summary"``): ESS
  and ESS/s of h2, and the posterior mean; and ``--full-draws`` draws with ``store="full"``;
* the joint and collapsed samplers: their symbolic analysis of the mixed-model equations
  (nonzeros of the Cholesky factor, its memory, multiply-adds per factorisation); each
  is built with the library's cap on the factor's nonzeros (``SparseCholesky``'s
  ``max_factor_nonzeros``), so a factor that cannot fit is reported, not attempted;
* the sampler ``sampler="auto"`` picks, and the peak RSS of the process.

    python benchmarks/bench_animal_scale.py [--draws 600] [--burn 100] [--steps 40] [--full-draws 100] [--skip-joint]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import numpy as np


def timed(fn, repeats: int) -> tuple[float, float, float, float]:
    """(min wall, median wall, min CPU, median CPU) seconds of ``fn()`` over ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), float(np.median(wall)), min(cpu), float(np.median(cpu))


def ms(values) -> str:
    return "wall min {:.1f} / median {:.1f} ms, CPU min {:.1f} / median {:.1f} ms".format(*(1e3 * v for v in values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=600)
    parser.add_argument("--burn", type=int, default=100)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--full-draws", type=int, default=100)
    parser.add_argument("--skip-joint", action="store_true", help="skip the joint/collapsed symbolic analysis")
    args = parser.parse_args()
    import arviz as az

    import bayesgen as bg
    from bayesgen.kernels.cholesky import FactorTooLargeError
    from bayesgen.kernels.random_effects import quadratic_form_matrix, sweep_random_effects_quadratic
    from bayesgen.sampler import Gibbs
    from bayesgen.sampler.blas_threads import single_threaded_blas
    from bayesgen.sampler.storage import ChainStorage

    print(
        f"{' '.join(sys.argv)}\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    t = time.perf_counter()
    sim = bg.simulate(n_founders=20_000, n_generations=9, n_offspring=20_000, n_markers=0, h2=0.4, seed=1)
    pedigree = sim.pedigree_object()
    data = sim.phenotypes.iloc[-100_000:]
    print(f"simulated {len(pedigree)} animals, {len(data)} records in {time.perf_counter() - t:.0f} s")

    t = time.perf_counter()
    model = bg.AnimalModel(data, "y", "id", pedigree, fixed=["sex"], sampler="single-site")
    animal = next(term for term in model.terms if isinstance(term, bg.Animal))
    ptr, idx, val = animal._prec
    print(
        f"single-site model built in {time.perf_counter() - t:.1f} s: {animal.n_levels} animals, nnz(A^-1) = {val.size}"
    )

    # BLAS on one thread, as model.sample runs chains (a threaded BLAS spins on small products).
    with single_threaded_blas():
        gibbs = Gibbs(model)
        rng = np.random.default_rng(1)
        chain = gibbs.init(rng)
        for _ in range(3):  # compile
            gibbs.step(rng, chain)
        state = chain.states[model.terms.index(animal)]
        ctx = chain.ctx
        zz = animal._weighted_counts(ctx)
        print("Gibbs iteration:  " + ms(timed(lambda: gibbs.step(rng, chain), args.steps)))
        for block, block_state in zip(gibbs.model.blocks, chain.blocks):
            label = f"{type(block).__name__} {getattr(getattr(block, 'term', None), 'name', '')}".strip()
            step = timed(lambda: block.step(rng, chain.states, block_state, ctx), args.steps)
            print(f"  {label + ':':<22}" + ms(step))
        split = animal._precision_split()
        print(
            "  animal sweep + u'A^-1 u: "
            + ms(
                timed(
                    lambda: sweep_random_effects_quadratic(
                        rng,
                        state["u"][:, 0],
                        ctx.resid[:, 0],
                        ctx.weights[:, 0],
                        animal._rec_ptr,
                        animal._rec_idx,
                        animal._rec_z,
                        zz,
                        ptr,
                        idx,
                        val,
                        split,
                        ctx.sigma2_e,
                        float(state["sigma2"][0, 0]),
                    ),
                    args.steps,
                )
            )
        )
        print("  u'A^-1 u alone:  " + ms(timed(lambda: quadratic_form_matrix(state["u"], ptr, idx, val), args.steps)))
        print("  rescaling move:  " + ms(timed(lambda: animal.rescale_move(rng, state, ctx), args.steps)))
        variables = model.variables()
        for store in ("summary", "full"):
            storage = ChainStorage(variables, args.steps, store)
            info = {("sample_stats", v.name): 0.0 for v in variables if v.group == "sample_stats"}

            def record_one():
                values = gibbs.record(chain, wanted=storage.wanted)
                values.update({k: v for k, v in info.items() if k in storage.wanted})
                storage.write(values)

            print(f"  record one draw ({store}): " + ms(timed(record_one, args.steps)))

    t, c = time.perf_counter(), time.process_time()
    idata = model.sample(
        draws=args.draws, burn=args.burn, chains=1, seed=2, progress=False, store="summary", check_convergence=False
    )
    seconds = time.perf_counter() - t
    cpu_ms = 1e3 * (time.process_time() - c) / (args.burn + args.draws)
    h2 = idata.posterior["h2"].values
    ess = float(az.ess(h2, method="bulk"))
    print(
        f"single-site, one chain of {args.burn} + {args.draws}: {seconds:.0f} s "
        f"({1e3 * seconds / (args.burn + args.draws):.1f} ms wall, {cpu_ms:.1f} ms CPU per iteration with "
        f"recording, store='summary'), h2 mean "
        f"{h2.mean():.3f} (simulated 0.4), ESS {ess:.0f}, ESS/s {ess / seconds:.2f}"
    )

    if args.full_draws:
        t, c = time.perf_counter(), time.process_time()
        model.sample(
            draws=args.full_draws, burn=0, chains=1, seed=2, progress=False, store="full", check_convergence=False
        )
        print(
            f"single-site, store='full', one chain of {args.full_draws}: "
            f"{1e3 * (time.perf_counter() - t) / args.full_draws:.1f} ms wall, "
            f"{1e3 * (time.process_time() - c) / args.full_draws:.1f} ms CPU per iteration with recording"
        )

    for sampler in () if args.skip_joint else ("joint", "collapsed"):
        t = time.perf_counter()
        try:
            _joint_analysis(bg, data, pedigree, sampler, FactorTooLargeError)
        except MemoryError as err:
            print(f"{sampler}: out of memory ({err}) after {time.perf_counter() - t:.0f} s")
    auto = bg.AnimalModel(data, "y", "id", pedigree, fixed=["sex"])
    print("sampler='auto' uses: " + ", ".join(type(b).__name__ for b in auto.blocks))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {rss:.2f} GB; load average {os.getloadavg()[0]:.2f} at the end")
    return 0


def _joint_analysis(bg, data, pedigree, sampler, too_large):
    """Build the joint/collapsed model, or report the symbolic analysis that refused it."""
    t = time.perf_counter()
    try:
        model = bg.AnimalModel(data, "y", "id", pedigree, fixed=["sex"], sampler=sampler)
    except too_large as err:
        print(
            f"{sampler}: factor refused after {time.perf_counter() - t:.0f} s of analysis: nnz(L) = "
            f"{err.nnz_factor:.3g} ({8 * err.nnz_factor / 1e9:.1f} GB of values), {err.flops:.3g} multiply-adds "
            f"per factorisation; analysis timings {err.timings}"
        )
        return
    print(
        f"{sampler}: built in {time.perf_counter() - t:.0f} s; blocks "
        + ", ".join(type(b).__name__ for b in model.blocks)
    )


if __name__ == "__main__":
    sys.exit(main())
