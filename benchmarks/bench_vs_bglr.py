"""Seconds per iteration, bayesgen against BGLR, like for like (issue 10, item 2).

The same genotypes and phenotype go through bayesgen (``bg.BayesA``, ``bg.BRR``,
``bg.BayesCPi``) and BGLR 1.1.5 (``BayesA``, ``BRR``, ``BayesC``) one after the other, round
after round (``--rounds``), so both see the same machine load. Each round runs one chain of
``--iterations`` iterations (after ``WARM_UP`` = 10 untimed ones) in each program, and the
time per iteration is each program's
own per-iteration clock, so that neither program's one-off set-up counts (BGLR centres and
scales a dense copy of X inside ``BGLR()``, which at 2,000 x 50,000 takes seconds): for
bayesgen the mean of ``sample_stats["seconds"]`` (the Gibbs step and recording a draw;
``model.sample``, one chain, ``store="summary"``, numba compiled beforehand), for BGLR the
mean of the ``Time/Iter`` it prints with ``verbose=TRUE`` (each iteration's elapsed time,
which BGLR rounds to 1 ms: on the wheat, where an iteration takes about 1 ms, its figure is
coarse). Printed: the medians over the rounds of those means, and their ratio.

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
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from performance import (
    DATA,
    mice_dataset,
    r_environment,
    r_has,
    simulate_codes,  # noqa: E402
    simulate_phenotype,
    write_dataset,
)

MODELS = {"BayesA": "BayesA", "BRR": "BRR", "BayesCPi": "BayesC"}  # bayesgen -> BGLR
WARM_UP = 10  # iterations run but not timed, in both programs (first touches of memory, caches)

BGLR_VERBOSE = r"""
args <- commandArgs(TRUE)
dir <- args[1]; model <- args[2]; nIter <- as.integer(args[3]); n <- as.integer(args[4]); p <- as.integer(args[5])
suppressMessages(library(BGLR))
X <- matrix(as.numeric(readBin(file.path(dir, "X.bin"), "integer", size = 1, n = n * p, signed = TRUE)), nrow = n)
y <- scan(file.path(dir, "y.txt"), quiet = TRUE)
set.seed(1)
fm <- BGLR(y = y, ETA = list(list(X = X, model = model, saveEffects = FALSE)), nIter = nIter, burnIn = 0, thin = 1,
           saveAt = file.path(dir, "verbose_"), verbose = TRUE)
"""


def bglr_seconds_per_iteration(folder: Path, model: str, iterations: int, n: int, p: int, env) -> float:
    """Mean of the per-iteration times BGLR prints (``Time/Iter=``, seconds, rounded to 1 ms),
    after the first ``WARM_UP``."""
    script = Path(tempfile.mkstemp(suffix=".R")[1])
    script.write_text(BGLR_VERBOSE)
    done = subprocess.run(
        ["Rscript", str(script), str(folder), model, str(iterations), str(n), str(p)],
        env=env,
        capture_output=True,
        text=True,
    )
    script.unlink()
    if done.returncode:
        raise RuntimeError(f"Rscript failed:\n{done.stderr[-3000:]}")
    times = [float(t) for t in re.findall(r"Time/Iter=([0-9.eE+-]+)", done.stderr + done.stdout)]
    if len(times) != iterations:
        raise RuntimeError(f"expected {iterations} 'Time/Iter=' lines from BGLR, found {len(times)}")
    return float(np.mean(times[WARM_UP:]))


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
    print(
        f"{' '.join(sys.argv)}\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
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
            datasets.append(
                (
                    f"sim {args.n}x{args.p}",
                    write_dataset(folder, "sim", codes, simulate_phenotype(codes, 0.5, 100, seed=2)),
                )
            )
        else:
            parser.error(f"--data: unknown data set {name!r} (expected mice, wheat or sim)")
    print(f"{'data':<18}{'model':<10}{'bayesgen ms/it':>15}{'BGLR ms/it':>12}{'BGLR / bayesgen':>17}  load")
    for label, data_folder in datasets:
        p, n = np.load(data_folder / "codes.npy", mmap_mode="r").shape
        for name in args.models.split(","):
            model = bayesgen_model(data_folder, name)
            ours, theirs = [], []
            for _ in range(args.rounds):
                idata = model.sample(
                    draws=args.iterations,
                    burn=WARM_UP,
                    chains=1,
                    seed=1,
                    progress=False,
                    store="summary",
                    check_convergence=False,
                )
                ours.append(float(idata.sample_stats["seconds"].mean()))
                if have_bglr:
                    theirs.append(
                        bglr_seconds_per_iteration(data_folder, MODELS[name], WARM_UP + args.iterations, n, p, env)
                    )
            a = 1e3 * float(np.median(ours))
            b = 1e3 * float(np.median(theirs)) if theirs else float("nan")
            print(f"{label:<18}{name:<10}{a:>15.2f}{b:>12.2f}{b / a:>17.2f}  {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
