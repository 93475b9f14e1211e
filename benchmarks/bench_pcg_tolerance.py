"""The error of the PCG route's draw against its solver tolerance (issue 21, item 3).

Simulates ``--animals`` animals (as ``bench_pcg.py``; the last half phenotyped), runs 20 Gibbs
iterations of ``y ~ 1 + sex + animal`` with ``sampler="pcg"``, then solves one perturbed system
C x = r + ξ to a relative residual of 1e-13 (the reference) and to each tolerance, from the last
draw (warm) and from zero, and prints the iterations and the largest error of an effect in units
of its conditional standard deviation 1/sqrt(C_ii): an upper bound on the error in posterior
standard deviations (the posterior sd is at least the conditional one).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_pcg_tolerance.py [--animals 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--animals", type=int, default=20_000)
    args = parser.parse_args()
    import bayesgen as bg
    from bayesgen.sampler import Gibbs

    n = args.animals
    print(f"{' '.join(sys.argv)}; load average {os.getloadavg()[0]:.2f}")
    sim = bg.simulate(n_founders=n // 10, n_generations=9, n_offspring=n // 10, n_markers=0, seed=1)
    data = sim.phenotypes.iloc[-n // 2 :]
    model = bg.AnimalModel(data, "y", "id", sim.pedigree_object(), fixed=["sex"], sampler="pcg")
    gibbs = Gibbs(model)
    rng = np.random.default_rng(0)
    chain = gibbs.init(rng)
    for _ in range(20):
        gibbs.step(rng, chain)
    block = model.blocks[0]
    mme, states = block.mme, chain.states
    partial = block.partial_response(states, chain.ctx)
    precisions = mme.pattern_precisions(chain.ctx.residual_covariance)
    inverses = block.covariance_inverses(states)
    values = mme.values(precisions, inverses)
    rhs = mme.rhs(mme.cross_products(partial), precisions) + block.perturbation(rng, precisions, inverses)
    start = mme.effects(states, block.indices).ravel()
    c = sp.csr_matrix((values, mme.pattern.indices, mme.pattern.indptr), shape=mme.pattern.shape)
    conditional_sd = 1.0 / np.sqrt(c.diagonal())
    block.tol = 1e-13
    reference, iterations, _ = block.solve(values, rhs, start)
    print(
        f"{len(model.terms[-2].levels)} animals, {mme.n_equations} equations: reference (1e-13) in {iterations} iterations"
    )
    for tol in (1e-4, 1e-6, 1e-8, 1e-10):
        block.tol = tol
        t = time.perf_counter()
        x, warm, _ = block.solve(values, rhs, start)
        seconds = time.perf_counter() - t
        _, cold, _ = block.solve(values, rhs, np.zeros_like(start))
        error = np.max(np.abs(x - reference) / conditional_sd)
        print(
            f"tol {tol:g}: {warm} iterations from the last draw ({cold} from zero), {1e3 * seconds:.0f} ms; "
            f"largest error {error:.2e} conditional sd"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
