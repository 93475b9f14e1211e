r"""Spike-and-slab mixing with and without the moves of pi (issue 23, item 3).

BayesC\ :math:`\pi` and BayesB move (pi, slab scale) along their ridge (``pi_move=True``, the
default); BayesR moves its class proportions (``BayesRPrior(pi_move=True)``, the default). For
each prior asked for, the same data go through the prior with and without its move, one variant
after the other in one process (same seeds): the mice (1,814 x 10,346, ``Obesity.BMI``) and the
wheat (599 x 1,279, env 1) from ``../shared/data``. The chains are split between the starting
shares of included markers given by ``--starts`` (the first half of the chains at the first, and
so on: BayesC/BayesB start at pi = s; BayesR at pi_0 = 1 - s and s split evenly over the other
classes), so R-hat also says whether chains from the different starts agree. Per variant: seconds
of sampling (burn-in included), and for pi (each class for BayesR), the slab scale, n_included,
h2 and sigma2_e the posterior mean, bulk ESS over all chains, ESS per second and R-hat (arviz,
rank-normalised split R-hat), with the targets (R-hat <= 1.01, bulk ESS >= 400) marked met or
not. With ``--bglr`` (R and BGLR installed), BGLR's BayesC on the same data: one chain of burn +
draws iterations per chain of bayesgen's, its probIn and varB traces, ESS and ESS per second of
its own sampling time.

    python benchmarks/bench_pi_move.py [--data mice,wheat] [--priors bayescpi,bayesr,bayesb]
        [--chains 4] [--burn 1000] [--draws 2000] [--starts 0.5,0.01] [--seed 1] [--no-baseline] [--bglr]

The issue's wheat target is at ``sample()``'s defaults: ``--data wheat --burn 500 --draws 1000``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from performance import DATA, r_environment, r_has  # noqa: E402

BGLR_BAYES_C = r"""
args <- commandArgs(TRUE)
dir <- args[1]; nIter <- as.integer(args[2]); burnIn <- as.integer(args[3]); chains <- as.integer(args[4])
suppressMessages(library(BGLR))
X <- as.matrix(read.csv(file.path(dir, "X.csv"), header = FALSE))
y <- scan(file.path(dir, "y.txt"), quiet = TRUE)
for (k in seq_len(chains)) {
  set.seed(k)
  start <- proc.time()[["elapsed"]]
  fm <- BGLR(y = y, ETA = list(list(X = X, model = "BayesC", saveEffects = FALSE)), nIter = nIter, burnIn = burnIn,
             thin = 1, saveAt = file.path(dir, paste0("c", k, "_")), verbose = FALSE)
  cat("seconds", k, proc.time()[["elapsed"]] - start, "\n")
}
"""


def load(name):
    import pandas as pd

    import bayesgen as bg

    if name == "mice":
        geno = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
        pheno = pd.read_csv(DATA / "mice_pheno.csv").set_index("SUBJECT.NAME").loc[list(geno.ids)]
        y = pheno["Obesity.BMI"].to_numpy(float)
    else:
        x = pd.read_csv(DATA / "wheat_X.csv.gz").set_index("line_id")
        y = pd.read_csv(DATA / "wheat_Y.csv").set_index("line_id").loc[x.index, "env1"].to_numpy(float)
        ids = [str(i) for i in x.index]
        geno = bg.Genotypes.from_codes(
            ids, np.ascontiguousarray(x.to_numpy(np.int8).T), list(x.columns), drop_monomorphic=False
        )
    data = pd.DataFrame({"id": list(geno.ids), "y": y})
    return data[np.isfinite(y)], geno


def summarise(idata, seconds):
    """(name, mean, bulk ESS, ESS/s, R-hat) of every scalar the targets name (pi per class for BayesR)."""
    import arviz as az

    post = idata.posterior
    columns = []
    for name in ("pi", "sigma2_alpha", "scale", "n_included", "h2", "sigma2_e"):
        if name not in post:
            continue
        draws = post[name].values
        if draws.ndim == 2:
            columns.append((name, draws))
        else:
            columns += [(f"{name}[{k}]", draws[..., k]) for k in range(draws.shape[-1])]
    rows = []
    for name, draws in columns:
        ess = float(az.ess(draws, method="bulk")) if np.ptp(draws) > 0 else float("nan")
        rhat = float(az.rhat(draws)) if np.ptp(draws) > 0 else float("nan")
        rows.append((name, float(draws.mean()), ess, ess / seconds, rhat))
    return rows


def started_prior(kind, start, pi_move):
    """The prior of ``kind`` (BGLR-like defaults) whose chains start with a share ``start`` of markers included."""
    import bayesgen as bg

    base, options = {
        "bayescpi": (bg.BayesCPrior, {"pi": bg.Beta(5.5, 5.5)}),
        "bayesb": (bg.BayesBPrior, {"pi": bg.Beta(5.5, 5.5)}),
        "bayesr": (bg.BayesRPrior, {}),
    }[kind]

    class Started(base):
        def init_state(self, rng, n_markers):
            state = super().init_state(rng, n_markers)
            if "classes" in state:  # BayesR: the spike gets 1 - start, the other classes share start
                n_slabs = state["pi"].size - 1
                state["pi"][:] = [1.0 - start] + [start / n_slabs] * n_slabs
            else:
                state["pi"][0] = start
            return state

    Started.__name__ = Started.__qualname__ = base.__name__
    return Started(pi_move=pi_move, **options)


def run_bayesgen(data, geno, kind, pi_move, args):
    """All chains, split over ``args.starts``; returns the InferenceData and seconds of sampling."""
    import xarray as xr

    import bayesgen as bg

    starts = [float(s) for s in args.starts.split(",")]
    per_start = max(args.chains // len(starts), 1)
    runs, seconds = [], 0.0
    for i, start in enumerate(starts):
        prior = started_prior(kind, start, pi_move)
        model = bg.Model(data, "y", [bg.Fixed(), bg.Markers("id", geno, prior=prior)])
        model.sample(draws=2, burn=1, chains=1, seed=0, progress=False, check_convergence=False)  # compile
        begin = time.perf_counter()
        idata = model.sample(
            draws=args.draws,
            burn=args.burn,
            chains=per_start,
            seed=args.seed + 1000 * i,
            progress=False,
            check_convergence=False,
            cores=1,
        )
        seconds += time.perf_counter() - begin
        runs.append(idata.posterior.assign_coords(chain=np.arange(per_start) + i * per_start))
    posterior = xr.concat(runs, dim="chain")
    return type("Posterior", (), {"posterior": posterior})(), seconds


def run_bglr(data, geno, args):
    import arviz as az

    env = r_environment()
    if not r_has("BGLR", env):
        print("BGLR: skipped: R/BGLR not found")
        return
    folder = Path(tempfile.mkdtemp())
    x = np.where(geno.codes == 3, np.nan, geno.codes.astype(float))
    x = np.where(np.isnan(x), np.nanmean(x, axis=1, keepdims=True), x)  # BGLR needs complete X: mean-impute
    rows = geno.index(list(data["id"]))
    np.savetxt(folder / "X.csv", x[:, rows].T, delimiter=",", fmt="%.6g")
    np.savetxt(folder / "y.txt", data["y"].to_numpy())
    script = folder / "bayes_c.R"
    script.write_text(BGLR_BAYES_C)
    iterations = args.burn + args.draws
    done = subprocess.run(
        ["Rscript", str(script), str(folder), str(iterations), str(args.burn), str(args.chains)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print("BGLR failed:", done.stderr[-2000:])
        return
    seconds = sum(float(line.split()[2]) for line in done.stdout.splitlines() if line.startswith("seconds"))
    traces = [
        np.loadtxt(folder / f"c{k}_ETA_1_parBayesC.dat", skiprows=1)[args.burn :] for k in range(1, args.chains + 1)
    ]
    print(f"BGLR 1.1.5 BayesC: {args.chains} chains x ({args.burn} + {args.draws}), {seconds:.1f} s")
    for column, name in ((0, "pi (probIn)"), (1, "sigma2_alpha (varB)")):
        draws = np.array([trace[:, column] for trace in traces])
        ess = float(az.ess(draws, method="bulk"))
        print(
            f"  {name:22s} mean {draws.mean():.4g}  bulk ESS {ess:7.1f}  ESS/s {ess / seconds:7.2f}  "
            f"R-hat {float(az.rhat(draws)):.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mice,wheat")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--burn", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--priors", default="bayescpi,bayesr")
    parser.add_argument("--starts", default="0.5,0.01", help="starting shares of included markers, comma-separated")
    parser.add_argument("--no-baseline", action="store_true", help="skip the runs without the moves")
    parser.add_argument("--bglr", action="store_true")
    args = parser.parse_args()
    if not (DATA / "mice_X.csv.gz").exists():
        print(f"skipped: {DATA} not found")
        return 0
    print(
        f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        f"{args.chains} chains x ({args.burn} + {args.draws}), seed {args.seed}, starts {args.starts}"
    )
    for name in args.data.split(","):
        data, geno = load(name)
        print(f"\n{name}: {len(data)} records x {geno.codes.shape[0]} markers")
        for kind in args.priors.split(","):
            for pi_move in (True,) if args.no_baseline else (True, False):
                idata, seconds = run_bayesgen(data, geno, kind, pi_move, args)
                print(f"bayesgen {kind}, pi_move={pi_move}: {seconds:.1f} s sampling (load {os.getloadavg()[0]:.2f})")
                for quantity, mean, ess, ess_s, rhat in summarise(idata, seconds):
                    met = "met" if rhat <= 1.01 and ess >= 400 else "not met"
                    print(
                        f"  {quantity:14s} mean {mean:10.4g}  bulk ESS {ess:7.1f}  ESS/s {ess_s:7.2f}  "
                        f"R-hat {rhat:.3f}  (R-hat <= 1.01 and ESS >= 400: {met})"
                    )
        if args.bglr:
            run_bglr(data, geno, args)
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
