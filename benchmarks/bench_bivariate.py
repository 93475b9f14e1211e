"""Several traits side by side with MCMCglmm: ESS per second of the genetic correlation.

Two data sets, each program with its own defaults for the chain's length and burn-in, one chain
per program per round, the rounds interleaved (bayesgen, MCMCglmm, bayesgen, ...), each chain in
its own process:

* ``gryphon``: bwt and tarsus (Wilson et al. 2010), sex fixed per trait, animal, birth year and
  mother with an unstructured 2 x 2 covariance each, and a 2 x 2 residual. bayesgen: its default
  priors and ``sample()`` lengths (1,000 draws after 500). MCMCglmm 2.36: ``us(trait):animal +
  us(trait):byear + us(trait):mother``, ``rcov = ~us(trait):units``, inverse-Wishart priors with
  V = diag(phenotypic variances) / 4 and nu = 1.002, and its default lengths (13,000 iterations,
  3,000 burn-in, thin 10).
* ``bluetit-iw`` and ``bluetit-default``: MCMCglmm's own bivariate example (tarsus and back, sex
  fixed, animal, dam and fosternest 2 x 2 per trait). MCMCglmm: IW(V = I, nu = 1.002) on every
  covariance, 65,000 iterations, 15,000 burn-in, thin 20 (its course notes). bayesgen: the same
  priors (``bg.InverseWishart(1.002, 1.002 * I)``: MCMCglmm's IW(V, nu) is bayesgen's
  InverseWishart(nu, nu V)) or its defaults (HuangWand), default lengths.

Per round and program: wall seconds of the whole chain (burn-in included: what the user waits;
each library loaded before the clock: R's ``library(MCMCglmm)``, bayesgen's arviz),
the kept draws' bulk ESS of rho_g, rho_e and each trait's h2, and ESS per second. At the end:
the posterior medians, the pooled R-hat over the rounds (independent chains), the median ESS/s of
rho_g per program and their ratio.

Run:  python benchmarks/bench_bivariate.py --cases gryphon,bluetit-iw,bluetit-default --rounds 4
Needs ../shared/data; MCMCglmm through Rscript (R_LIBS may point to it; /work/Rlib is added when
present). Without R or MCMCglmm, bayesgen's side runs alone and the script says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

CASES = {
    "gryphon": dict(data="gryphon", traits=("bwt", "tarsus"), fixed=["sex"], random=["animal", "byear", "mother"]),
    "bluetit-iw": dict(
        data="bluetit", traits=("tarsus", "back"), fixed=["sex"], random=["animal", "dam", "fosternest"], prior="iw"
    ),
    "bluetit-default": dict(
        data="bluetit", traits=("tarsus", "back"), fixed=["sex"], random=["animal", "dam", "fosternest"]
    ),
}

R_SCRIPT = r"""
args <- commandArgs(TRUE)
dir <- args[1]; case <- args[2]; out <- args[3]; seed <- as.integer(args[4])
suppressMessages(library(MCMCglmm))
set.seed(seed)
if (case == "gryphon") {
  d <- read.csv(file.path(dir, "gryphon.csv"))
  ped <- read.csv(file.path(dir, "gryphonped.csv"))
  ped <- data.frame(animal = ped$id, dam = ped$mother, sire = ped$father)
  d <- d[!(is.na(d$bwt) & is.na(d$tarsus)), ]
  d$animal <- factor(d$animal); d$byear <- factor(d$byear); d$mother <- factor(d$mother); d$sex <- factor(d$sex)
  pv <- diag(c(var(d$bwt, na.rm = TRUE), var(d$tarsus, na.rm = TRUE))) / 4
  prior <- list(G = list(G1 = list(V = pv, nu = 1.002), G2 = list(V = pv, nu = 1.002), G3 = list(V = pv, nu = 1.002)),
                R = list(V = pv, nu = 1.002))
  t <- system.time(m <- MCMCglmm(cbind(bwt, tarsus) ~ trait - 1 + trait:sex,
                                 random = ~us(trait):animal + us(trait):byear + us(trait):mother,
                                 rcov = ~us(trait):units, family = c("gaussian", "gaussian"), pedigree = ped,
                                 data = d, prior = prior, verbose = FALSE))[["elapsed"]]
} else {
  d <- read.csv(file.path(dir, "bluetit.csv"))
  ped <- read.csv(file.path(dir, "bluetitped.csv"))
  d <- d[!(is.na(d$tarsus) & is.na(d$back)), ]
  d$animal <- factor(d$animal); d$dam <- factor(d$dam); d$fosternest <- factor(d$fosternest); d$sex <- factor(d$sex)
  iw <- list(V = diag(2), nu = 1.002)
  prior <- list(G = list(G1 = iw, G2 = iw, G3 = iw), R = iw)
  t <- system.time(m <- MCMCglmm(cbind(tarsus, back) ~ trait - 1 + trait:sex,
                                 random = ~us(trait):animal + us(trait):dam + us(trait):fosternest,
                                 rcov = ~us(trait):units, family = c("gaussian", "gaussian"), pedigree = ped,
                                 data = d, prior = prior, nitt = 65000, burnin = 15000, thin = 20,
                                 verbose = FALSE))[["elapsed"]]
}
write.table(as.matrix(m$VCV), file.path(out, "vcv.txt"), row.names = FALSE)
cat(sprintf("seconds %.6f\n", t))
"""


def bayesgen_chain(case: dict, seed: int) -> dict:
    """One bayesgen chain (runs in the child process): draws of the summaries and wall seconds."""
    import time
    import warnings

    import pandas as pd

    import bayesgen as bg

    traits = list(case["traits"])
    if case["data"] == "gryphon":
        data = pd.read_csv(DATA / "gryphon.csv")
        pedigree = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
        genetic = "animal"
    else:
        data = pd.read_csv(DATA / "bluetit.csv")
        pedigree = bg.Pedigree.from_csv(DATA / "bluetitped.csv", id="animal", sire="sire", dam="dam")
        genetic = "animal"
    data["sex"] = data["sex"].astype(str)
    for name in case["random"]:
        if name != genetic:
            data[name] = data[name].astype(str)
    prior = {}
    if case.get("prior") == "iw":
        prior = dict(prior=bg.InverseWishart(1.002, 1.002 * np.eye(2)))
    terms = [bg.Fixed(case["fixed"]), bg.Animal(genetic, pedigree, **prior)]
    terms += [bg.Random(name, **prior) for name in case["random"] if name != genetic]
    extra = dict(sigma2_e=bg.InverseWishart(1.002, 1.002 * np.eye(2))) if prior else {}
    # Each library is loaded before its clock starts: R's library(MCMCglmm) precedes system.time(),
    # and bayesgen imports arviz (its output) on the first sample() call, so import it here.
    import bayesgen.output  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = bg.Model(data, traits, terms, **extra)
        start = time.perf_counter()
        idata = model.sample(chains=1, cores=1, seed=seed, progress=False, check_convergence=False)
        seconds = time.perf_counter() - start
    post = idata.posterior
    pair = dict(trait_row=traits[0], trait_col=traits[1])
    out = {"rho_g": post[f"rho_{genetic}"].sel(pair).values[0], "rho_e": post["rho_e"].sel(pair).values[0]}
    for trait in traits:
        out[f"h2_{trait}"] = post["h2"].sel(trait=trait).values[0]
    return {
        "seconds": seconds,
        "draws": {k: v.tolist() for k, v in out.items()},
        "blocks": [b["block"] for b in model.describe()["sampler"]],
    }


def mcmcglmm_chain(name: str, case: dict, seed: int, env: dict) -> dict:
    folder = Path(tempfile.mkdtemp())
    script = folder / "fit.R"
    script.write_text(R_SCRIPT)
    data_name = "gryphon" if case["data"] == "gryphon" else "bluetit"
    done = subprocess.run(
        ["Rscript", str(script), str(DATA), data_name, str(folder), str(seed)], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"MCMCglmm failed:\n{done.stderr[-3000:]}")
    seconds = float(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("seconds")))
    with open(folder / "vcv.txt") as handle:
        header = [h.strip('"') for h in handle.readline().split()]
    vcv = np.loadtxt(folder / "vcv.txt", skiprows=1)
    shutil.rmtree(folder)
    traits = case["traits"]
    genetic = "animal"

    def column(a, b, term):
        return vcv[:, header.index(f"trait{a}:trait{b}.{term}")]

    def correlation(term):
        return column(traits[1], traits[0], term) / np.sqrt(
            column(traits[0], traits[0], term) * column(traits[1], traits[1], term)
        )

    terms = [genetic] + [t for t in case["random"] if t != genetic] + ["units"]
    out = {"rho_g": correlation(genetic), "rho_e": correlation("units")}
    for trait in traits:
        total = sum(column(trait, trait, term) for term in terms)
        out[f"h2_{trait}"] = column(trait, trait, genetic) / total
    return {"seconds": seconds, "draws": {k: v.tolist() for k, v in out.items()}}


def r_environment() -> dict:
    env = dict(os.environ)
    if Path("/work/Rlib").is_dir():
        env["R_LIBS"] = os.pathsep.join(filter(None, [env.get("R_LIBS"), "/work/Rlib"]))
    return env


def has_mcmcglmm(env) -> bool:
    if shutil.which("Rscript") is None:
        return False
    done = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('MCMCglmm', quietly = TRUE))"], env=env, capture_output=True
    )
    return done.returncode == 0


def in_fresh_process(module: str, call: str) -> dict:
    """``call`` (an expression on ``b``, the benchmark ``module``, returning a JSON-able dict) in a
    fresh Python process: a chain shares no state (caches, adaptation) with the other rounds."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
        f"import {module} as b; print(json.dumps({call}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"bayesgen chain failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(name: str, seed: int) -> dict:
    """A bayesgen chain in a fresh process (no state shared with the other rounds)."""
    return in_fresh_process("bench_bivariate", f"b.bayesgen_chain(b.CASES[{name!r}], {seed})")


def summarise(program: str, runs: list) -> dict:
    import arviz as az

    names = list(runs[0]["draws"])
    length = min(len(r["draws"][names[0]]) for r in runs)
    print(f"  {program}: {len(runs)} chains x {length} kept draws")
    table = {}
    for name in names:
        chains = np.array([r["draws"][name][:length] for r in runs])
        per_round = [float(az.ess(np.array(r["draws"][name])[None, :], method="bulk")) / r["seconds"] for r in runs]
        rhat = float(az.rhat(chains, method="rank")) if len(runs) > 1 else float("nan")
        median = float(np.median(chains))
        low, high = np.quantile(chains, [0.025, 0.975])
        ess_share = np.median(
            [float(az.ess(np.array(r["draws"][name])[None, :], method="bulk")) / length for r in runs]
        )
        table[name] = {
            "median": median,
            "interval": (float(low), float(high)),
            "rhat": rhat,
            "ess_per_second": per_round,
            "ess_share": float(ess_share),
        }
        print(
            f"    {name:12s} median {median:7.3f} [{low:6.3f}, {high:6.3f}]  R-hat {rhat:6.3f}  "
            f"bulk ESS {100 * ess_share:5.1f}% of draws (median chain)  ESS/s per round "
            + " ".join(f"{v:7.2f}" for v in per_round)
        )
    seconds = " ".join(f"{r['seconds']:.1f}" for r in runs)
    print(f"    seconds per chain: {seconds}")
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="gryphon,bluetit-iw,bluetit-default")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--no-r", action="store_true", help="bayesgen alone")
    args = parser.parse_args(argv)
    if not (DATA / "gryphon.csv").exists():
        print(f"reference data not found in {DATA}: skipped.")
        return
    env = r_environment()
    with_r = not args.no_r and has_mcmcglmm(env)
    if not with_r and not args.no_r:
        print("R or MCMCglmm not found: bayesgen alone.")
    print(f"load average at start: {os.getloadavg()}")
    for name in args.cases.split(","):
        case = CASES[name]
        print(f"\n== {name}")
        runs = {"bayesgen": [], "MCMCglmm": []}
        for round_ in range(1, args.rounds + 1):
            runs["bayesgen"].append(child(name, round_))
            if with_r:
                runs["MCMCglmm"].append(mcmcglmm_chain(name, case, round_, env))
            print(f"  round {round_} done, load {os.getloadavg()[0]:.2f}", flush=True)
        print(f"  bayesgen blocks: {runs['bayesgen'][0]['blocks']}")
        tables = {program: summarise(program, r) for program, r in runs.items() if r}
        if with_r:
            ours = np.median(tables["bayesgen"]["rho_g"]["ess_per_second"])
            theirs = np.median(tables["MCMCglmm"]["rho_g"]["ess_per_second"])
            ratios = [
                a / b
                for a, b in zip(
                    tables["bayesgen"]["rho_g"]["ess_per_second"], tables["MCMCglmm"]["rho_g"]["ess_per_second"]
                )
            ]
            print(
                f"  rho_g ESS/s: bayesgen {ours:.2f}, MCMCglmm {theirs:.2f}, ratio of medians {ours / theirs:.2f} "
                f"(per round {' '.join(f'{r:.2f}' for r in ratios)})"
            )
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
