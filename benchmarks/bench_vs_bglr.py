"""Seconds per iteration, bayesgen against BGLR, like for like (issue 10, item 2).

The same genotypes and phenotype go through bayesgen (``bg.BayesA``, ``bg.BRR``,
``bg.BayesCPi``) and BGLR 1.1.5 (``BayesA``, ``BRR``, ``BayesC``) one after the other, round
after round (``--rounds``), so both see the same machine load; each round runs one chain of
``--iterations`` iterations in each program. bayesgen's time is the wall time of
``model.sample`` (one chain, ``store="summary"``, numba compiled beforehand); BGLR's is its own
``system.time`` around ``BGLR()`` inside Rscript (R's start-up and reading the matrix not
counted). Both print per-iteration medians over the rounds and their ratio.

Data: the mice (1,814 x 10,346, ``Obesity.BMI``) and the wheat (599 x 1,279, env 1) from
``../shared/data`` when present, and a simulated 2,000 x 50,000 matrix (``--n``/``--p``).
Skips BGLR with a message when R or BGLR is missing (``R_LIBS`` is honoured; /work/Rlib is
added when it exists).

    python benchmarks/bench_vs_bglr.py [--data mice,wheat,sim] [--iterations 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from performance import (BGLR_R, DATA, mice_dataset, r_environment, r_has, run_r,  # noqa: E402
                         simulate_codes, simulate_phenotype, write_dataset)

MODELS = {"BayesA": "BayesA", "BRR": "BRR", "BayesCPi": "BayesC"}  # bayesgen -> BGLR


def wheat_dataset(folder: Path):
    import pandas as pd

    x = pd.read_csv(DATA / "wheat_X.csv.gz").set_index("line_id")
    y = pd.read_csv(DATA / "wheat_Y.csv").set_index("line_id").loc[x.index, "env1"].to_numpy(float)
    codes = x.to_numpy(np.int8).T
    return write_dataset(folder, "wheat", np.ascontiguousarray(codes), y)


def bayesgen_model(folder: Path, name: str):
    import pandas as pd

    import bayesgen as bg

    codes = np.load(folder / "codes.npy")
    y = np.loadtxt(folder / "y.txt")
    ids = [f"i{i}" for i in range(codes.shape[1])]
    geno = bg.Genotypes.from_codes(ids, codes, [f"m{j}" for j in range(codes.shape[0])], drop_monomorphic=False)
    model = getattr(bg, name)(pd.DataFrame({"id": ids, "y": y}), "y", "id", geno)
    model.sample(draws=2, burn=1, chains=1, seed=0, progress=False, check_convergence=False)  # compile
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="mice,wheat,sim")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=50000)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    print(f"{' '.join(sys.argv)}\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    env = r_environment()
    have_bglr = r_has("BGLR", env)
    if not have_bglr:
        print("BGLR: skipped (Rscript or the BGLR package not found)")
    warnings.simplefilter("ignore")
    folder = Path(tempfile.mkdtemp(prefix="bench_vs_bglr_"))
    datasets = []
    for name in args.data.split(","):
        if name in ("mice", "wheat") and not DATA.is_dir():
            print(f"{name}: skipped ({DATA} not found)")
        elif name == "mice":
            datasets.append(("mice", mice_dataset(folder)))
        elif name == "wheat":
            datasets.append(("wheat", wheat_dataset(folder)))
        elif name == "sim":
            codes = simulate_codes(args.n, args.p, seed=1)
            datasets.append((f"sim {args.n}x{args.p}", write_dataset(folder, "sim", codes,
                                                                    simulate_phenotype(codes, 0.5, 100, seed=2))))
        else:
            parser.error(f"--data: unknown data set {name!r} (expected mice, wheat or sim)")
    print(f"{'data':<18}{'model':<10}{'bayesgen ms/it':>15}{'BGLR ms/it':>12}{'BGLR / bayesgen':>17}  load")
    for label, data_folder in datasets:
        p, n = np.load(data_folder / "codes.npy", mmap_mode="r").shape
        for name in args.models.split(","):
            model = bayesgen_model(data_folder, name)
            ours, theirs = [], []
            for _ in range(args.rounds):
                t = time.perf_counter()
                model.sample(draws=args.iterations, burn=0, chains=1, seed=1, progress=False, store="summary",
                             check_convergence=False)
                ours.append((time.perf_counter() - t) / args.iterations)
                if have_bglr:
                    seconds, _ = run_r(BGLR_R, [data_folder, MODELS[name], args.iterations, 0, 1, n, p], env)
                    theirs.append(seconds[0] / args.iterations)
            a = 1e3 * float(np.median(ours))
            b = 1e3 * float(np.median(theirs)) if theirs else float("nan")
            print(f"{label:<18}{name:<10}{a:>15.2f}{b:>12.2f}{b / a:>17.2f}  {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
