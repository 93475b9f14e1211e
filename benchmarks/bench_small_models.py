"""Small models at compiled speed (issue 23, item 1): bayesgen against MCMCglmm, per iteration and ESS/s.

Two models, one chain per program and prior per round, the rounds interleaved (bayesgen, MCMCglmm
prior a, MCMCglmm prior b, bayesgen, ...), each chain in its own process:

* ``sleepstudy``: ``Reaction ~ Days + (Days | Subject)``, an unstructured 2 x 2 Subject covariance.
  bayesgen: ``bg.Random("Subject", slopes=["Days"])``, its default priors and ``sample()`` lengths
  (1,000 draws after 500 burn-in; it picks its collapsed sampler). MCMCglmm 2.36:
  ``random = ~us(1 + Days):Subject`` with (a) ``iw``: inverse-Wishart G = list(V = diag(2),
  nu = 2.002), R = list(V = 1, nu = 0.002); (b) ``px``: parameter-expanded G = list(V = diag(2),
  nu = 2, alpha.mu = c(0, 0), alpha.V = diag(2) * 1000), same R. Components: the Subject intercept
  variance, slope variance, their covariance, the residual variance.
* ``gryphon``: ``bwt ~ sex + animal + byear + mother`` (rows with bwt and sex; pedigree
  gryphonped.csv). bayesgen: ``bg.Animal`` + ``bg.Random("byear")`` + ``bg.Random("mother")``, its
  defaults. MCMCglmm: ``random = ~animal + byear + mother`` with (a) ``ig``: V = 1, nu = 0.002 on
  every G and R; (b) ``px``: G V = 1, nu = 1, alpha.mu = 0, alpha.V = 1000, R V = 1, nu = 0.002.
  Components: sigma2 animal, byear, mother, residual, and h2.

MCMCglmm runs its default lengths (13,000 iterations, 3,000 burn-in, thin 10: 1,000 kept draws,
as many as bayesgen keeps). Per chain: wall seconds of the whole chain (MCMCglmm: the
``MCMCglmm()`` call, its set-up included, ``library(MCMCglmm)`` before the clock; bayesgen:
``model.sample``, the model built and ``bayesgen.output`` (arviz) imported before the clock starts; ``progress`` and ``check_convergence`` off, output settings that do not change the
draws) and per iteration (those seconds over burn-in + draws, thinned iterations included); for
bayesgen also the per-iteration time without set-up, the difference of a long and a short run in
the same process divided by the difference of their lengths (as ``bench_iteration_floor.py``).
For every component: the bulk ESS of the kept draws (``az.ess(method="bulk")``), ESS/s (that ESS
over the whole chain's wall seconds, burn-in included) and the posterior median. At the end, per
model: the medians pooled over rounds with |z| = |difference| / sqrt(MCSE_bayesgen^2 +
MCSE_MCMCglmm^2) (MCSEs of the median, ``az.mcse(method="median")``), and per component bayesgen's
ESS/s over the best MCMCglmm prior's (per component, medians over rounds) and the per-iteration
ratios, with the targets: per iteration <= MCMCglmm's (its faster prior), every component's
ESS/s >= 2x the best prior's.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_small_models.py --rounds 2
      (``--quick``: one round of short chains, < 1 min, to check that everything runs; its
      figures are not the measurement.)
Needs ../shared/data; MCMCglmm through Rscript (R_LIBS may point to it; /work/Rlib is added when
present). Without R or MCMCglmm, bayesgen's side runs alone and the script says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bivariate import has_mcmcglmm, in_fresh_process, r_environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# Component names shared by both programs, in the order they are printed.
COMPONENTS = {
    "sleepstudy": ["var_intercept", "var_slope", "cov_int_slope", "sigma2_e"],
    "gryphon": ["sigma2_animal", "sigma2_byear", "sigma2_mother", "sigma2_e", "h2"],
}
PRIORS = {"sleepstudy": ["iw", "px"], "gryphon": ["ig", "px"]}
# Lengths: bayesgen's and MCMCglmm's defaults, or the --quick ones.
LENGTHS = {"full": dict(burn=None, draws=1000, nitt=13000, burnin=3000, thin=10)}
LENGTHS["quick"] = dict(burn=100, draws=200, nitt=1300, burnin=300, thin=5)
# The runs whose difference gives bayesgen's iteration without set-up (burn-in 0).
SHORT, LONG = 100, 1100

R_SCRIPT = r"""
args <- commandArgs(TRUE)
dir <- args[1]; model <- args[2]; prior_name <- args[3]; out <- args[4]; seed <- as.integer(args[5])
nitt <- as.integer(args[6]); burnin <- as.integer(args[7]); thin <- as.integer(args[8])
suppressMessages(library(MCMCglmm))
set.seed(seed)
if (model == "sleepstudy") {
  d <- read.csv(file.path(dir, "sleepstudy.csv"))
  d$Subject <- factor(d$Subject)
  R <- list(V = 1, nu = 0.002)
  if (prior_name == "iw") {
    prior <- list(G = list(G1 = list(V = diag(2), nu = 2.002)), R = R)
  } else {
    prior <- list(G = list(G1 = list(V = diag(2), nu = 2, alpha.mu = c(0, 0), alpha.V = diag(2) * 1000)), R = R)
  }
  t <- system.time(m <- MCMCglmm(Reaction ~ Days, random = ~us(1 + Days):Subject, data = d, prior = prior,
                                 nitt = nitt, burnin = burnin, thin = thin, verbose = FALSE))[["elapsed"]]
} else {
  d <- read.csv(file.path(dir, "gryphon.csv"))
  ped <- read.csv(file.path(dir, "gryphonped.csv"))
  ped <- data.frame(animal = ped$id, dam = ped$mother, sire = ped$father)
  d <- d[!is.na(d$bwt) & !is.na(d$sex), ]
  d$animal <- factor(d$animal); d$byear <- factor(d$byear); d$mother <- factor(d$mother); d$sex <- factor(d$sex)
  R <- list(V = 1, nu = 0.002)
  if (prior_name == "ig") {
    g <- list(V = 1, nu = 0.002)
  } else {
    g <- list(V = 1, nu = 1, alpha.mu = 0, alpha.V = 1000)
  }
  prior <- list(G = list(G1 = g, G2 = g, G3 = g), R = R)
  t <- system.time(m <- MCMCglmm(bwt ~ sex, random = ~animal + byear + mother, pedigree = ped, data = d,
                                 prior = prior, nitt = nitt, burnin = burnin, thin = thin,
                                 verbose = FALSE))[["elapsed"]]
}
write.table(as.matrix(m$VCV), file.path(out, "vcv.txt"), row.names = FALSE)
cat(sprintf("seconds %.6f\n", t))
"""


def build_model(name: str):
    """The bayesgen model of ``name`` with its default priors."""
    import warnings

    import pandas as pd

    import bayesgen as bg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "sleepstudy":
            data = pd.read_csv(DATA / "sleepstudy.csv")
            data["Subject"] = data["Subject"].astype(str)
            return bg.Model(data, "Reaction", [bg.Fixed(["Days"]), bg.Random("Subject", slopes=["Days"])])
        data = pd.read_csv(DATA / "gryphon.csv")
        data = data[data["bwt"].notna() & data["sex"].notna()].copy()
        for column in ("sex", "byear", "mother"):
            data[column] = data[column].astype(str)
        pedigree = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
        terms = [bg.Fixed(["sex"]), bg.Animal("animal", pedigree), bg.Random("byear"), bg.Random("mother")]
        return bg.Model(data, "bwt", terms)


def bayesgen_chain(name: str, seed: int, lengths: str) -> dict:
    """One bayesgen chain (runs in the child process): the components' draws, wall seconds, and
    the per-iteration time without set-up."""
    import time
    import warnings

    length = LENGTHS[lengths]
    model = build_model(name)
    # Each library is loaded before its clock starts: R's library(MCMCglmm) precedes system.time(),
    # and bayesgen imports arviz (its output) on the first sample() call, so import it here.
    import bayesgen.output  # noqa: F401

    options = dict(chains=1, cores=1, seed=seed, progress=False, check_convergence=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        idata = model.sample(draws=length["draws"], burn=length["burn"], **options)
        seconds = time.perf_counter() - start
        timings = {}
        for draws in (SHORT, LONG):
            start = time.perf_counter()
            model.sample(draws=draws, burn=0, **options)
            timings[draws] = time.perf_counter() - start
    post = idata.posterior
    if name == "sleepstudy":
        cov = post["sigma2_Subject"].values[0]
        draws_of = {
            "var_intercept": cov[:, 0, 0],
            "var_slope": cov[:, 1, 1],
            "cov_int_slope": cov[:, 0, 1],
            "sigma2_e": post["sigma2_e"].values[0],
        }
        assert list(post["Subject_coef_row"].values) == ["(Intercept)", "Days"]
    else:
        draws_of = {
            "sigma2_animal": post["sigma2_a"].values[0],
            "sigma2_byear": post["sigma2_byear"].values[0],
            "sigma2_mother": post["sigma2_mother"].values[0],
            "sigma2_e": post["sigma2_e"].values[0],
            "h2": post["h2"].values[0],
        }
    return {
        "seconds": seconds,
        "iterations": int(idata.posterior.attrs["burn"]) + int(idata.posterior.attrs["draws"]),
        "iteration_no_setup": (timings[LONG] - timings[SHORT]) / (LONG - SHORT),
        "draws": {k: np.asarray(v, float).tolist() for k, v in draws_of.items()},
    }


def child(name: str, seed: int, lengths: str) -> dict:
    """A bayesgen chain in a fresh process (no state shared with the other rounds)."""
    return in_fresh_process("bench_small_models", f"b.bayesgen_chain({name!r}, {seed}, {lengths!r})")


def mcmcglmm_chain(name: str, prior: str, seed: int, lengths: str, env: dict) -> dict:
    """One MCMCglmm chain in its own Rscript: the components' draws and the MCMCglmm() call's seconds."""
    length = LENGTHS[lengths]
    folder = Path(tempfile.mkdtemp())
    script = folder / "fit.R"
    script.write_text(R_SCRIPT)
    command = ["Rscript", str(script), str(DATA), name, prior, str(folder), str(seed)]
    command += [str(length["nitt"]), str(length["burnin"]), str(length["thin"])]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        shutil.rmtree(folder)
        raise RuntimeError(f"MCMCglmm failed:\n{done.stderr[-3000:]}")
    seconds = float(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("seconds")))
    with open(folder / "vcv.txt") as handle:
        header = [h.strip('"') for h in handle.readline().split()]
    vcv = np.atleast_2d(np.loadtxt(folder / "vcv.txt", skiprows=1))
    shutil.rmtree(folder)

    def column(label):
        return vcv[:, header.index(label)]

    if name == "sleepstudy":
        draws_of = {
            "var_intercept": column("(Intercept):(Intercept).Subject"),
            "var_slope": column("Days:Days.Subject"),
            "cov_int_slope": column("(Intercept):Days.Subject"),
            "sigma2_e": column("units"),
        }
    else:
        total = column("animal") + column("byear") + column("mother") + column("units")
        draws_of = {
            "sigma2_animal": column("animal"),
            "sigma2_byear": column("byear"),
            "sigma2_mother": column("mother"),
            "sigma2_e": column("units"),
            "h2": column("animal") / total,
        }
    return {
        "seconds": seconds,
        "iterations": length["nitt"],
        "draws": {k: v.tolist() for k, v in draws_of.items()},
    }


def ess(values) -> float:
    import arviz as az

    return float(az.ess(np.asarray(values)[None, :], method="bulk"))


def print_chain(name: str, program: str, round_: int, run: dict) -> None:
    """One line per chain: seconds, per iteration, and per component ESS, ESS/s and median."""
    per_iteration = run["seconds"] / run["iterations"]
    extra = f", {1e3 * run['iteration_no_setup']:.3f} ms without set-up" if "iteration_no_setup" in run else ""
    print(
        f"  round {round_} {program:<12s} {run['seconds']:7.2f} s whole chain, {run['iterations']} iterations, "
        f"{1e3 * per_iteration:.3f} ms/iteration{extra}"
    )
    for component in COMPONENTS[name]:
        draws = run["draws"][component]
        value = ess(draws)
        print(
            f"      {component:<14s} ESS {value:7.1f} of {len(draws)}  ESS/s {value / run['seconds']:8.2f}  "
            f"median {np.median(draws):10.4g}"
        )


def compare(name: str, runs: dict) -> list:
    """The end-of-model summary: medians with |z|, ESS/s ratios and per-iteration ratios, targets."""
    import arviz as az

    ours = runs["bayesgen"]
    peers = [program for program in runs if program != "bayesgen" and runs[program]]
    rows = []
    print(f"\n  {name}: posterior medians pooled over rounds (MCSE of the median), |z| against bayesgen")
    for component in COMPONENTS[name]:
        cells = []
        pooled = {}
        for program in ["bayesgen"] + peers:
            length = min(len(r["draws"][component]) for r in runs[program])
            chains = np.array([r["draws"][component][:length] for r in runs[program]])
            pooled[program] = (float(np.median(chains)), float(az.mcse(chains, method="median")))
        for program in peers:
            z = abs(pooled["bayesgen"][0] - pooled[program][0]) / np.hypot(pooled["bayesgen"][1], pooled[program][1])
            cells.append(f"{program} {pooled[program][0]:9.4g} ({pooled[program][1]:.2g}) |z| {z:5.1f}")
        print(
            f"    {component:<14s} bayesgen {pooled['bayesgen'][0]:9.4g} ({pooled['bayesgen'][1]:.2g})  "
            + "  ".join(cells)
        )
    if not peers:
        return rows
    print(f"\n  {name}: ESS/s, medians over rounds; ratio = bayesgen / the best MCMCglmm prior's (target >= 2)")
    for component in COMPONENTS[name]:
        rate = {
            program: float(np.median([ess(r["draws"][component]) / r["seconds"] for r in runs[program]]))
            for program in ["bayesgen"] + peers
        }
        best = max(peers, key=lambda program: rate[program])
        ratio = rate["bayesgen"] / rate[best]
        verdict = "met" if ratio >= 2 else "not met"
        others = "  ".join(f"{program} {rate[program]:8.2f}" for program in peers)
        print(
            f"    {component:<14s} bayesgen {rate['bayesgen']:8.2f}  {others}  best {best:<12s} "
            f"ratio {ratio:6.2f}  {verdict}"
        )
        rows.append((name, component, ratio, verdict))
    whole = float(np.median([r["seconds"] / r["iterations"] for r in ours]))
    bare = float(np.median([r["iteration_no_setup"] for r in ours]))
    theirs = {program: float(np.median([r["seconds"] / r["iterations"] for r in runs[program]])) for program in peers}
    fastest = min(peers, key=lambda program: theirs[program])
    print(f"\n  {name}: ms per iteration, medians over rounds (target: bayesgen <= MCMCglmm's faster prior)")
    print(
        f"    bayesgen {1e3 * whole:.3f} (whole chain), {1e3 * bare:.3f} (without set-up); "
        + ", ".join(f"{program} {1e3 * theirs[program]:.3f}" for program in peers)
    )
    ratio = whole / theirs[fastest]
    verdict = "met" if ratio <= 1 else "not met"
    print(
        f"    ratio bayesgen / {fastest}: {ratio:.2f} whole chain, {bare / theirs[fastest]:.2f} without set-up  "
        f"{verdict}"
    )
    rows.append((name, "per iteration", ratio, verdict))
    return rows


def uptime() -> str:
    """``uptime``'s line (the load averages), or the load averages alone where it is missing."""
    if shutil.which("uptime") is None:
        return f"load average {os.getloadavg()}"
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="sleepstudy,gryphon")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="one round of short chains: a check, not the measurement")
    parser.add_argument("--no-r", action="store_true", help="bayesgen alone")
    args = parser.parse_args(argv)
    if not ((DATA / "gryphon.csv").exists() and (DATA / "sleepstudy.csv").exists()):
        print(f"reference data not found in {DATA}: skipped.")
        return
    lengths = "quick" if args.quick else "full"
    rounds = 1 if args.quick else args.rounds
    env = r_environment()
    with_r = not args.no_r and has_mcmcglmm(env)
    if not with_r and not args.no_r:
        print("R or MCMCglmm not found: bayesgen alone.")
    print(f"uptime at start: {uptime()}")
    print(f"lengths: {LENGTHS[lengths]}, bayesgen's no-set-up runs {SHORT} and {LONG} draws; {rounds} round(s)")
    rows = []
    for name in args.models.split(","):
        print(f"\n== {name}")
        runs = {"bayesgen": []}
        if with_r:
            runs.update({f"MCMCglmm-{prior}": [] for prior in PRIORS[name]})
        for round_ in range(1, rounds + 1):
            for program in runs:
                if program == "bayesgen":
                    run = child(name, round_, lengths)
                else:
                    run = mcmcglmm_chain(name, program.split("-")[1], round_, lengths, env)
                runs[program].append(run)
                print_chain(name, program, round_, run)
            print(f"  round {round_} done: {uptime()}", flush=True)
        rows += compare(name, runs)
    if rows:
        print("\nTargets (issue 23 item 1)")
        for name, what, ratio, verdict in rows:
            print(f"  {name:<11s} {what:<14s} {ratio:6.2f}  {verdict}")
    print(f"\nuptime at end: {uptime()}")


if __name__ == "__main__":
    main()
