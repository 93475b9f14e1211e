"""BayesC per iteration at pi = 0.05 against pi = 1 (issue 10, item 3), whole Gibbs iterations.

``performance.py --sections kernel`` times the spike-and-slab sweep alone; this script times
what a user pays per iteration: ``bg.BayesC(..., pi=...)`` (pi fixed, variances sampled)
through ``model.sample`` (one chain, ``store="summary"``, compiled beforehand), the two values
of pi alternated round after round (``--rounds``), the median over all rounds of the seconds
each iteration took (``sample_stats["seconds"]``: the Gibbs step and recording the draw; the
one-off set-up of ``sample`` and ``--burn`` iterations before are not counted), and the
share of markers included at pi = 0.05. Data: simulated n x p (``--n``/``--p``), the same
with 1% missing genotypes and 5% unphenotyped records, and the mice (1,814 x 10,346,
``Obesity.BMI``) when ``../shared/data`` is present.

    python benchmarks/bench_spike_slab.py [--n 2000] [--p 50000] [--iterations 60] [--burn 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from performance import DATA, simulate_codes, simulate_phenotype  # noqa: E402


def datasets(n, p):
    codes = simulate_codes(n, p, seed=1)
    y = simulate_phenotype(codes, 0.5, 100, seed=2)
    yield f"simulated {n} x {p}", codes, y
    missing = simulate_codes(n, p, seed=1, missing=0.01)
    y_missing = y.copy()
    y_missing[np.random.default_rng(3).choice(n, n // 20, replace=False)] = np.nan
    yield f"simulated {n} x {p}, 1% missing, 5% unphenotyped", missing, y_missing
    if DATA.is_dir():
        import pandas as pd

        import bayesgen as bg

        geno = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
        pheno = pd.read_csv(DATA / "mice_pheno.csv").set_index("SUBJECT.NAME").loc[list(geno.ids)]
        yield "mice 1,814 x 10,346", np.ascontiguousarray(geno.codes), pheno["Obesity.BMI"].to_numpy(float)
    else:
        print(f"mice: skipped ({DATA} not found)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=50000)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--burn", type=int, default=50, help="iterations before the timed ones (not timed)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import pandas as pd

    import bayesgen as bg

    warnings.simplefilter("ignore")
    print(f"{' '.join(sys.argv)}\nload average {os.getloadavg()[0]:.2f} at start")
    print(f"{'data':<50}{'pi=1 ms/it':>11}{'pi=0.05 ms/it':>14}{'ratio':>7}{'included':>10}  load")
    for label, codes, y in datasets(args.n, args.p):
        ids = [f"i{i}" for i in range(codes.shape[1])]
        geno = bg.Genotypes.from_codes(ids, codes, [f"m{j}" for j in range(codes.shape[0])], drop_monomorphic=False)
        data = pd.DataFrame({"id": ids, "y": y})
        models = {pi: bg.BayesC(data, "y", "id", geno, pi=pi) for pi in (1.0, 0.05)}
        seconds = {pi: [] for pi in models}
        included = []
        for model in models.values():
            model.sample(draws=2, burn=1, chains=1, seed=0, progress=False, check_convergence=False)  # compile
        for _ in range(args.rounds):
            for pi, model in models.items():
                idata = model.sample(
                    draws=args.iterations,
                    burn=args.burn,
                    chains=1,
                    seed=1,
                    progress=False,
                    store="summary",
                    check_convergence=False,
                )
                seconds[pi].extend(idata.sample_stats["seconds"].values.ravel())
                if pi < 1:
                    included.append(float(idata.posterior["n_included"].mean()) / codes.shape[0])
        one, sparse = (1e3 * float(np.median(seconds[pi])) for pi in (1.0, 0.05))
        print(
            f"{label:<50}{one:>11.2f}{sparse:>14.2f}{sparse / one:>7.2f}{np.mean(included):>10.1%}  "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
