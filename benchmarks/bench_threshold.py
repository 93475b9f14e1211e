"""Threshold and censored traits: bayesgen beside MCMCglmm 2.36, one script, one table per part.

    python benchmarks/bench_threshold.py [--quick]
        [--parts real,binary,ordinal,pair,censored,censored_pair,censored_binary,
               threshold_traits,gaussian_binary_ordinal]
                                         [--moves on|off|both]

Parts (each prints its table; R parts are skipped with a message when Rscript or MCMCglmm is
missing, or ../shared/data for the real data):

* ``real``: MCMCglmm's own data sets. ``plodia.csv``: binary ``Pupated`` with a full-sib
  family effect, ``family="threshold"``, residual fixed at 1; ``soay_horns.csv``: horn type
  (polled < scurred < normal) by sex, threshold (first cut-point 0, the second sampled). The
  issue's reference numbers (MCMCglmm, 3,000 kept draws) are printed beside both fits.
* ``binary``: simulated binary trait (h2 = 0.3 on the liability, prevalence 0.2; 450 records,
  a random-mating pedigree of 550 animals: larger random-mating pedigrees fill the sparse
  factor, about 0.1 s per factorisation at 1,300 animals); bayesgen (collapsed and joint
  samplers) beside MCMCglmm ``threshold``.
* ``ordinal``: simulated 3-category trait, bayesgen threshold beside MCMCglmm ``ordinal``,
  whose liability has a residual variance 1 (fixed) on top of the probit's 1: its variances
  are twice bayesgen's and its cut-points sqrt(2) times, so its h2 is
  sigma2_a / (sigma2_a + 2), compared here after that conversion.
* ``pair``: a Gaussian trait beside a 3-category ordinal one (600 records, a pedigree of 600;
  genetic correlation 0.43, residual covariance 0.3), bayesgen ``family=["gaussian",
  "threshold"]`` beside MCMCglmm ``family=c("gaussian", "threshold")`` with ``fix = 2`` (the
  ordinal trait's residual variance fixed at 1, its covariance with the Gaussian trait sampled);
  inverse-Wishart priors IW(nu = 3, V = I) on both covariance matrices on both sides
  (bayesgen's ``InverseWishart(3, 3 I)``).
* ``censored_pair``: a Gaussian trait beside a right-censored one (the ``censored`` part's data
  and a second trait correlated with it genetically and in the residuals), bayesgen
  ``family=["gaussian", "censored"]`` beside MCMCglmm ``family=c("gaussian", "cengaussian")``
  (exact records with equal bounds, open sides ``Inf``); IW(nu = 3, V = I) priors on both
  covariance matrices on both sides.
* ``censored_binary``: the ``censored`` part's right-censored trait beside a binary one whose
  liability shares its breeding values and residuals, bayesgen ``family=["censored",
  "threshold"]`` beside MCMCglmm ``family=c("cengaussian", "threshold")`` with ``fix = 2`` (the
  binary residual variance fixed at 1); IW(nu = 3, V = I) priors on both covariance matrices on
  both sides.
* ``threshold_traits``: three threshold traits alone, two binary and a 3-category one (600
  records, a pedigree of 600; genetic correlations 0.45, 0.39 and -0.29), bayesgen
  ``family=["threshold"] * 3`` (R = I) beside MCMCglmm ``family = rep("threshold", 3)`` with
  ``rcov = ~us(trait):units`` fixed at I (``fix = 1``); IW(nu = 4, V = I) on the animal
  covariance on both sides.
* ``gaussian_binary_ordinal``: a Gaussian trait beside a binary and a 3-category one (600
  records, a pedigree of 700; the Gaussian residual correlated with both liabilities), bayesgen
  ``family=["gaussian", "threshold", "threshold"]`` beside MCMCglmm ``family = c("gaussian",
  "threshold", "threshold")`` with the threshold traits' residual block fixed at I (``fix = 2``);
  IW(nu = 4, V = I) on both covariance matrices on both sides.
* ``censored``: 30% right-censoring: the censored fit, the fit of the uncensored values and a
  naive fit that takes the censoring times as values.

``--moves both`` fits every bayesgen threshold model with and without its scale move and
marginal group moves (``bg.Threshold(scale_move=, marginal_moves=)``) in the same run, so
their effect is a ratio of one run.

Priors are the same on both sides: the animal / family variance has MCMCglmm's parameter-
expanded prior ``V = 1, nu = 1, alpha.mu = 0, alpha.V = 1000``, whose standard deviation is
half-Cauchy with scale sqrt(1000), i.e. bayesgen's ``HalfT(1, sqrt(1000))``; fixed effects are
flat (MCMCglmm: N(0, 1e10)); the cut-points flat. Posterior medians are compared with their
Monte Carlo standard errors (arviz ``mcse(method="median")`` for bayesgen, coda's
effectiveSize for MCMCglmm through the same formula on its draws). ESS per second uses CPU
seconds (user + system: both sides run one chain at a time on one core), since the machine is
shared; the load average is printed with each part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bayesgen as bg  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
R_ENV = {**os.environ, "R_LIBS": os.environ.get("R_LIBS", "/work/Rlib")}
#: The issue's MCMCglmm reference numbers (median [95%]).
REFERENCE = {
    ("plodia", "V_family"): (0.221, 0.105, 0.433),
    ("plodia", "icc"): (0.181, 0.095, 0.302),
    ("plodia", "intercept"): (-0.597, -0.767, -0.435),
    ("soay", "male"): (1.494, 1.285, 1.712),
    ("soay", "cutpoint"): (1.195, 1.039, 1.369),
}
PX_PRIOR = "list(V = 1, nu = 1, alpha.mu = 0, alpha.V = 1000)"
#: bayesgen's fits with its threshold moves on (True) and/or off (False): ``--moves on|off|both``.
MOVES = [True]


def threshold_fits():
    """(label suffix, family) of each bayesgen threshold fit to run: with or without the scale move
    and the marginal group moves."""
    return [("" if move else " (no moves)", bg.Threshold(scale_move=move, marginal_moves=move)) for move in MOVES]


def load() -> str:
    return open("/proc/loadavg").read().split()[0] if Path("/proc/loadavg").exists() else "?"


def r_available() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    done = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('MCMCglmm', quietly = TRUE))"],
        env=R_ENV,
        capture_output=True,
    )
    return None if done.returncode == 0 else "R package MCMCglmm not found"


# ---------------------------------------------------------------------- summaries
def ess(draws: np.ndarray) -> float:
    import arviz as az

    return float(az.ess(np.asarray(draws)))


def median_mcse(draws: np.ndarray) -> float:
    import arviz as az

    return float(az.mcse(np.asarray(draws), method="median"))


def summarise(side: str, name: str, draws: np.ndarray, seconds: float) -> dict:
    """draws: chains x draws."""
    draws = np.atleast_2d(draws)
    flat = draws.ravel()
    e = ess(draws)
    return {
        "side": side,
        "quantity": name,
        "median": np.median(flat),
        "lower": np.quantile(flat, 0.025),
        "upper": np.quantile(flat, 0.975),
        "mcse_median": median_mcse(draws),
        "ess": e,
        "cpu_s": seconds,
        "ess_per_s": e / seconds,
    }


def run_bayesgen(model, draws: int, burn: int, chains: int = 4, seed: int = 1):
    start = time.process_time()
    idata = model.sample(
        draws=draws, burn=burn, chains=chains, seed=seed, progress=False, cores=1, check_convergence=False
    )
    return idata, time.process_time() - start


def run_mcmcglmm(script: str, data: pd.DataFrame, extra_files: dict | None = None) -> tuple[pd.DataFrame, float]:
    """Run an R script that reads data.csv and writes draws.csv and seconds.txt (user + system)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data.to_csv(tmp / "data.csv", index=False)
        for name, frame in (extra_files or {}).items():
            frame.to_csv(tmp / name, index=False)
        (tmp / "fit.R").write_text(script)
        done = subprocess.run(["Rscript", "fit.R"], cwd=tmp, env=R_ENV, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"Rscript failed (exit status {done.returncode}):\n{done.stderr[-3000:]}")
        return pd.read_csv(tmp / "draws.csv"), float((tmp / "seconds.txt").read_text())


R_HEADER = """suppressMessages(library(MCMCglmm))
set.seed({seed})
d <- read.csv("data.csv")
"""
R_FOOTER = """t <- system.time(m <- {call})
writeLines(as.character(t[["user.self"]] + t[["sys.self"]]), "seconds.txt")
out <- data.frame(as.matrix(m$Sol)[, {sol}, drop = FALSE], as.matrix(m$VCV))
if (!is.null(m$CP)) out <- data.frame(out, as.matrix(m$CP))
write.csv(out, "draws.csv", row.names = FALSE)
"""


def table(rows: list[dict], title: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    print(f"\n## {title} (load average {load()})")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return frame


def agreement(frame: pd.DataFrame, quantity: str) -> str:
    """z of the difference of the two sides' medians with their MCSEs."""
    ours = frame[(frame.quantity == quantity) & (frame.side.str.startswith("bayesgen"))]
    theirs = frame[(frame.quantity == quantity) & (frame.side == "MCMCglmm")]
    if ours.empty or theirs.empty:
        return ""
    lines = []
    for _, row in ours.iterrows():
        other = theirs.iloc[0]
        z = (row["median"] - other["median"]) / np.hypot(row["mcse_median"], other["mcse_median"])
        ratio = row["ess_per_s"] / other["ess_per_s"]
        lines.append(f"{quantity}: {row.side} vs MCMCglmm: median difference z = {z:+.2f}; ESS/s ratio {ratio:.2f}")
    return "\n".join(lines)


def report(rows: list[dict], title: str) -> pd.DataFrame:
    """Print the part's table and, per quantity, bayesgen's agreement with MCMCglmm (``agreement``)."""
    frame = table(rows, title)
    for quantity in frame.quantity.unique():
        print(agreement(frame, quantity))
    return frame


def correlations(covariance: np.ndarray) -> np.ndarray:
    """Correlation matrices of covariance draws (... x t x t)."""
    sd = np.sqrt(np.einsum("...ii->...i", covariance))
    return covariance / (sd[..., :, None] * sd[..., None, :])


def mcmcglmm_animal_traits(frame, pedigree, response, families, prior, nitt, factors=()):
    """MCMCglmm's several-trait animal model on ``frame`` (columns id, sex and the response's):
    ``cbind(response) ~ trait - 1 + trait:sex``, ``random = ~us(trait):animal``,
    ``rcov = ~us(trait):units``, 2,000 burn-in, thin 10. ``prior`` is the R list of R and G,
    ``factors`` the columns R reads as categories. Returns the draws' frame, its CPU seconds, and
    the animal and residual covariances' draws (draws x t x t)."""
    t = len(families)
    script = (
        R_HEADER.format(seed=1)
        + """ped <- read.csv("ped.csv", stringsAsFactors = FALSE)
ped[ped == ""] <- NA
d$animal <- d$id; d$sex <- factor(d$sex)
"""
        + "".join(f"d${name} <- factor(d${name})\n" for name in factors)
        + f"prior <- {prior}\n"
        + R_FOOTER.format(
            call=f"MCMCglmm(cbind({', '.join(response)}) ~ trait - 1 + trait:sex, random = ~us(trait):animal, "
            f"rcov = ~us(trait):units, family = c({', '.join(repr(f) for f in families)}), pedigree = ped, "
            f"data = d, prior = prior, nitt = {nitt}, burnin = 2000, thin = 10, verbose = FALSE)".replace("'", '"'),
            sol=f"1:{t}",
        )
    )
    out, seconds = run_mcmcglmm(script, frame, {"ped.csv": pedigree.rename(columns={"id": "animal"})})
    # VCV columns: G (t x t, column-major), then R
    genetic = out.filter(like="animal").to_numpy().reshape(-1, t, t)
    residual = out.filter(like="units").to_numpy().reshape(-1, t, t)
    return out, seconds, genetic, residual


# ---------------------------------------------------------------------- parts
def part_real(quick: bool, r_missing):
    rows = []
    if not (DATA / "plodia.csv").exists():
        print(f"\n## real data: skipped ({DATA} not found)")
        return
    draws, burn = (750, 250) if quick else (2500, 500)
    plodia = pd.read_csv(DATA / "plodia.csv")
    for suffix, family in threshold_fits():
        model = bg.Model(
            plodia,
            "Pupated",
            [bg.Fixed(), bg.Random("FSfamily", prior=bg.HalfT(1, np.sqrt(1000)))],
            family=family,
            sampler="joint",
        )
        idata, seconds = run_bayesgen(model, draws, burn)
        v = idata.posterior["sigma2_FSfamily"].values
        side = "bayesgen" + suffix
        rows += [
            summarise(side, "plodia V_family", v, seconds),
            summarise(side, "plodia icc", v / (v + 1), seconds),
            summarise(side, "plodia intercept", idata.posterior["beta"].values[..., 0], seconds),
        ]
    if r_missing is None:
        nitt = 6000 if quick else 33000
        script = (
            R_HEADER.format(seed=1)
            + f"""d$FSfamily <- factor(d$FSfamily)
prior <- list(R = list(V = 1, fix = 1), G = list(G1 = {PX_PRIOR}))
"""
            + R_FOOTER.format(
                call=f'MCMCglmm(Pupated ~ 1, random = ~FSfamily, family = "threshold", data = d, '
                f"prior = prior, nitt = {nitt}, burnin = 3000, thin = 10, verbose = FALSE)",
                sol="1",
            )
        )
        out, r_seconds = run_mcmcglmm(script, plodia)
        v = out["FSfamily"].to_numpy()
        rows += [
            summarise("MCMCglmm", "plodia V_family", v, r_seconds),
            summarise("MCMCglmm", "plodia icc", v / (v + 1), r_seconds),
            summarise("MCMCglmm", "plodia intercept", out.iloc[:, 0].to_numpy(), r_seconds),
        ]
    soay = pd.read_csv(DATA / "soay_horns.csv")
    soay["horn"] = pd.Categorical(soay["horn"], categories=["polled", "scurred", "normal"], ordered=True)
    for suffix, family in threshold_fits():
        model = bg.Model(soay, "horn", [bg.Fixed(["sex"])], family=family)
        idata, seconds = run_bayesgen(model, draws, burn)
        beta = idata.posterior["beta"]
        male = (
            beta.sel(
                beta_level=[c for c in beta["beta_level"].values if "male" in str(c) and "female" not in str(c)]
            ).values[..., 0]
            if "beta_level" in beta.dims
            else beta.values[..., 1]
        )
        side = "bayesgen" + suffix
        rows += [
            summarise(side, "soay male", male, seconds),
            summarise(side, "soay cutpoint", idata.posterior["cutpoints"].values[..., 0], seconds),
        ]
    if r_missing is None:
        nitt = 6000 if quick else 33000
        script = (
            R_HEADER.format(seed=1)
            + """d$horn <- factor(d$horn, levels = c("polled", "scurred", "normal"))
prior <- list(R = list(V = 1, fix = 1))
"""
            + R_FOOTER.format(
                call=f'MCMCglmm(horn ~ sex, family = "threshold", data = d, prior = prior, nitt = {nitt}, '
                "burnin = 3000, thin = 10, verbose = FALSE)",
                sol="1:2",
            )
        )
        out, r_seconds = run_mcmcglmm(script, soay.assign(horn=soay["horn"].astype(str)))
        rows += [
            summarise("MCMCglmm", "soay male", out["sexmale"].to_numpy(), r_seconds),
            summarise("MCMCglmm", "soay cutpoint", out.iloc[:, -1].to_numpy(), r_seconds),
        ]
    frame = table(rows, "Real data (MCMCglmm's plodia and Soay horns)")
    for (data_set, quantity), (m, lo, hi) in REFERENCE.items():
        print(f"issue reference (MCMCglmm, 3,000 draws) {data_set} {quantity}: {m} [{lo}, {hi}]")
    for quantity in frame.quantity.unique():
        print(agreement(frame, quantity))
    return frame


def simulated(kind: str, seed: int, quick: bool):
    sim = bg.simulate(
        n_founders=100,
        n_generations=3,
        n_offspring=150,
        n_markers=0,
        h2=0.3,
        family="threshold" if kind == "binary" else "gaussian",
        prevalence=0.2,
        seed=seed,
    )
    data = sim.phenotypes.set_index("id", drop=False)
    if kind == "ordinal":
        z = (data["y"] - data["y"].mean()) / data["y"].std()
        data["y"] = np.digitize(z, [-0.5, 0.8]).astype(float)  # about 31%, 48%, 21%
    return data, sim


def part_simulated(kind: str, quick: bool, r_missing):
    data, sim = simulated(kind, 7, quick)
    draws, burn = (500, 250) if quick else (2000, 500)
    rows, out = [], None
    for sampler in ("collapsed", "joint"):
        for suffix, family in threshold_fits():
            model = bg.Model(
                data,
                "y",
                [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object(), prior=bg.HalfT(1, np.sqrt(1000)))],
                family=family,
                sampler=sampler,
            )
            idata, seconds = run_bayesgen(model, draws, burn)
            side = f"bayesgen {sampler}{suffix}"
            rows += [
                summarise(side, "sigma2_a", idata.posterior["sigma2_a"].values, seconds),
                summarise(side, "h2", idata.posterior["h2"].values, seconds),
            ]
            if kind == "ordinal":
                rows.append(summarise(side, "cutpoint", idata.posterior["cutpoints"].values[..., 0], seconds))
    if r_missing is None:
        nitt = 6000 if quick else 42000
        family = "threshold" if kind == "binary" else "ordinal"
        script = (
            R_HEADER.format(seed=1)
            + f"""ped <- read.csv("ped.csv", stringsAsFactors = FALSE)
ped[ped == ""] <- NA
d$animal <- d$id; d$y <- factor(d$y); d$sex <- factor(d$sex)
prior <- list(R = list(V = 1, fix = 1), G = list(G1 = {PX_PRIOR}))
"""
            + R_FOOTER.format(
                call=f'MCMCglmm(y ~ sex, random = ~animal, pedigree = ped, family = "{family}", data = d, '
                f"prior = prior, nitt = {nitt}, burnin = 2000, thin = 10, verbose = FALSE)",
                sol="1:2",
            )
        )
        pedigree = sim.pedigree.rename(columns={"id": "animal"})
        try:
            out, r_seconds = run_mcmcglmm(script, data[["id", "sex", "y"]].astype({"y": int}), {"ped.csv": pedigree})
        except RuntimeError as err:  # keep bayesgen's rows
            print(f"MCMCglmm failed: {err}")
            out = None
    if r_missing is None and out is not None:
        a = out["animal"].to_numpy()
        # MCMCglmm's ordinal liability has residual variance units (fixed 1) + 1: rescale to bayesgen's.
        scale = 2.0 if kind == "ordinal" else 1.0
        rows += [
            summarise("MCMCglmm", "sigma2_a", a / scale, r_seconds),
            summarise("MCMCglmm", "h2", a / (a + scale), r_seconds),
        ]
        if kind == "ordinal":
            rows.append(summarise("MCMCglmm", "cutpoint", out.iloc[:, -1].to_numpy() / np.sqrt(scale), r_seconds))
    return report(
        rows, f"Simulated {kind} trait, {len(data)} records, pedigree of {len(sim.pedigree)} (true liability h2 0.3)"
    )


def simulated_traits(seed: int, genetic, residual, intercepts, male_effects):
    """Traits on a simulated random-mating pedigree (100 founders, 3 generations of 200 offspring):
    value = intercept + male effect + breeding value + residual, breeding values ~ N(0, G (x) A),
    residuals ~ N(0, R). Returns the records' id and sex, their values (records x traits) and the
    simulation (its pedigree)."""
    sim = bg.simulate(n_founders=100, n_generations=3, n_offspring=200, n_markers=0, seed=seed)
    pedigree = sim.pedigree_object()
    t = len(intercepts)
    rng = np.random.default_rng(seed)
    chol_a = np.linalg.cholesky(pedigree.relationship().to_numpy())
    breeding = chol_a @ rng.standard_normal((len(pedigree), t)) @ np.linalg.cholesky(genetic).T
    data = sim.phenotypes.set_index("id", drop=False)[["id", "sex"]].copy()
    at = pedigree.index(data["id"].to_numpy())
    male = (data["sex"] == data["sex"].iloc[0]).to_numpy()
    noise = rng.standard_normal((len(data), t)) @ np.linalg.cholesky(residual).T
    values = np.asarray(intercepts) + np.asarray(male_effects) * male[:, None] + breeding[at] + noise
    return data, values, sim


def simulated_pair(seed: int):
    """A Gaussian trait and a 3-category ordinal one: R's ordinal diagonal 1; the ordinal liability
    cut at 0 and 1."""
    genetic = np.array([[0.4, 0.15], [0.15, 0.3]])
    data, values, sim = simulated_traits(seed, genetic, [[0.6, 0.3], [0.3, 1.0]], [10.0, -0.3], [0.5, 0.3])
    data["g"] = values[:, 0]
    data["o"] = np.digitize(values[:, 1], [0.0, 1.0])
    return data, sim, {"rho_a": genetic[0, 1] / np.sqrt(genetic[0, 0] * genetic[1, 1]), "cutpoint": 1.0}


def part_pair(quick: bool, r_missing):
    data, sim, truth = simulated_pair(11)
    draws, burn = (500, 250) if quick else (2500, 500)
    rows = []

    def pair_rows(side, sigma2_a, sigma2_e, cutpoint, seconds):
        rho_a = sigma2_a[..., 0, 1] / np.sqrt(sigma2_a[..., 0, 0] * sigma2_a[..., 1, 1])
        return [
            summarise(side, "sigma2_a[g]", sigma2_a[..., 0, 0], seconds),
            summarise(side, "sigma2_a[o]", sigma2_a[..., 1, 1], seconds),
            summarise(side, "rho_a", rho_a, seconds),
            summarise(side, "sigma2_e[g]", sigma2_e[..., 0, 0], seconds),
            summarise(side, "sigma2_e[g,o]", sigma2_e[..., 0, 1], seconds),
            summarise(side, "cutpoint", cutpoint, seconds),
        ]

    for sampler in ("single-site", "joint"):
        model = bg.Model(
            data,
            ["g", "o"],
            [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object(), prior=bg.InverseWishart(3.0, 3.0 * np.eye(2)))],
            sigma2_e=bg.InverseWishart(3.0, 3.0 * np.eye(2)),
            family=["gaussian", "threshold"],
            sampler=sampler,
        )
        idata, seconds = run_bayesgen(model, draws, burn)
        post = idata.posterior
        rows += pair_rows(
            f"bayesgen {sampler}",
            post["sigma2_a"].values,
            post["sigma2_e"].values,
            post["cutpoints"].values[..., 0],
            seconds,
        )
    if r_missing is None:
        out, r_seconds, vcv, res = mcmcglmm_animal_traits(
            data[["id", "sex", "g", "o"]],
            sim.pedigree,
            ["g", "o"],
            ["gaussian", "threshold"],
            "list(R = list(V = diag(2), nu = 3, fix = 2), G = list(G1 = list(V = diag(2), nu = 3)))",
            6000 if quick else 42000,
            factors=["o"],
        )
        # CP: the free cut-point, last
        rows += pair_rows("MCMCglmm", vcv, res, out.iloc[:, -1].to_numpy(), r_seconds)
    return report(
        rows,
        f"A Gaussian and an ordinal trait, {len(data)} records, pedigree of {len(sim.pedigree)} "
        f"(true rho_a {truth['rho_a']:.2f}, cut-point {truth['cutpoint']})",
    )


def simulated_threshold_traits(seed: int):
    """Two binary traits and a 3-category one: residuals ~ N(0, I) (threshold traits alone: R = I),
    liabilities cut at 0 (and 1 for the ordinal one); about 30% and 50% of the records in the
    binary traits' upper category."""
    genetic = np.array([[0.5, 0.2, 0.15], [0.2, 0.4, -0.1], [0.15, -0.1, 0.3]])
    data, liability, sim = simulated_traits(seed, genetic, np.eye(3), [-0.6, 0.0, -0.2], [0.3, 0.3, 0.3])
    data["b1"] = (liability[:, 0] > 0).astype(int)
    data["b2"] = (liability[:, 1] > 0).astype(int)
    data["o"] = np.digitize(liability[:, 2], [0.0, 1.0])
    rho = genetic / np.sqrt(np.outer(np.diag(genetic), np.diag(genetic)))
    return data, sim, {"rho_a[b1,b2]": rho[0, 1], "rho_a[b1,o]": rho[0, 2], "cutpoint": 1.0}


def part_threshold_traits(quick: bool, r_missing):
    """Three threshold traits alone (two binary, one ordinal), R = I on both sides (MCMCglmm's
    ``fix = 1``), IW(nu = 4, V = I) on the animal covariance (bayesgen ``InverseWishart(4, 4 I)``)."""
    data, sim, truth = simulated_threshold_traits(13)
    draws, burn = (500, 250) if quick else (2500, 500)
    rows = []

    def rows_of(side, sigma2_a, cutpoint, seconds):
        rho = correlations(sigma2_a)
        return [
            summarise(side, "sigma2_a[b1]", sigma2_a[..., 0, 0], seconds),
            summarise(side, "sigma2_a[b2]", sigma2_a[..., 1, 1], seconds),
            summarise(side, "sigma2_a[o]", sigma2_a[..., 2, 2], seconds),
            summarise(side, "rho_a[b1,b2]", rho[..., 0, 1], seconds),
            summarise(side, "rho_a[b1,o]", rho[..., 0, 2], seconds),
            summarise(side, "rho_a[b2,o]", rho[..., 1, 2], seconds),
            summarise(side, "cutpoint", cutpoint, seconds),
        ]

    for sampler in ("single-site", "joint"):
        model = bg.Model(
            data,
            ["b1", "b2", "o"],
            [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object(), prior=bg.InverseWishart(4.0, 4.0 * np.eye(3)))],
            family=["threshold"] * 3,
            sampler=sampler,
        )
        idata, seconds = run_bayesgen(model, draws, burn)
        post = idata.posterior
        rows += rows_of(f"bayesgen {sampler}", post["sigma2_a"].values, post["cutpoints"].values[..., 0], seconds)
    if r_missing is None:
        out, r_seconds, vcv, _ = mcmcglmm_animal_traits(
            data[["id", "sex", "b1", "b2", "o"]],
            sim.pedigree,
            ["b1", "b2", "o"],
            ["threshold"] * 3,
            "list(R = list(V = diag(3), nu = 4, fix = 1), G = list(G1 = list(V = diag(3), nu = 4)))",
            6000 if quick else 42000,
            factors=["b1", "b2", "o"],
        )
        rows += rows_of("MCMCglmm", vcv, out.iloc[:, -1].to_numpy(), r_seconds)
    return report(
        rows,
        f"Three threshold traits alone (two binary, one 3-category), {len(data)} records, pedigree of "
        f"{len(sim.pedigree)} (truth {', '.join(f'{k} {v:.2f}' for k, v in truth.items())})",
    )


def simulated_gaussian_binary_ordinal(seed: int):
    """A Gaussian trait, a binary one and a 3-category one: R's threshold block I, the Gaussian
    trait's residual correlated with both liabilities; liabilities cut at 0 (and 1 for the ordinal
    one)."""
    genetic = np.array([[0.4, 0.15, 0.1], [0.15, 0.4, 0.1], [0.1, 0.1, 0.3]])
    residual = np.array([[0.6, 0.3, -0.25], [0.3, 1.0, 0.0], [-0.25, 0.0, 1.0]])
    data, values, sim = simulated_traits(seed, genetic, residual, [10.0, -0.5, -0.2], [0.3, 0.3, 0.3])
    data["g"] = values[:, 0]
    data["b"] = (values[:, 1] > 0).astype(int)
    data["o"] = np.digitize(values[:, 2], [0.0, 1.0])
    return data, sim, {"sigma2_e[g,b]": 0.3, "sigma2_e[g,o]": -0.25, "cutpoint": 1.0}


def part_gaussian_binary_ordinal(quick: bool, r_missing):
    """A Gaussian, a binary and a 3-category trait: the two threshold traits' residual block I on
    both sides (MCMCglmm ``fix = 2``), IW(nu = 4, V = I) on both covariance matrices."""
    data, sim, truth = simulated_gaussian_binary_ordinal(17)
    draws, burn = (500, 250) if quick else (2500, 500)
    rows = []

    def rows_of(side, sigma2_a, sigma2_e, cutpoint, seconds):
        rho = correlations(sigma2_a)
        return [
            summarise(side, "sigma2_a[g]", sigma2_a[..., 0, 0], seconds),
            summarise(side, "sigma2_a[b]", sigma2_a[..., 1, 1], seconds),
            summarise(side, "sigma2_a[o]", sigma2_a[..., 2, 2], seconds),
            summarise(side, "rho_a[b,o]", rho[..., 1, 2], seconds),
            summarise(side, "sigma2_e[g]", sigma2_e[..., 0, 0], seconds),
            summarise(side, "sigma2_e[g,b]", sigma2_e[..., 0, 1], seconds),
            summarise(side, "sigma2_e[g,o]", sigma2_e[..., 0, 2], seconds),
            summarise(side, "cutpoint", cutpoint, seconds),
        ]

    for sampler in ("single-site", "joint"):
        model = bg.Model(
            data,
            ["g", "b", "o"],
            [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object(), prior=bg.InverseWishart(4.0, 4.0 * np.eye(3)))],
            sigma2_e=bg.InverseWishart(4.0, 4.0 * np.eye(3)),
            family=["gaussian", "threshold", "threshold"],
            sampler=sampler,
        )
        idata, seconds = run_bayesgen(model, draws, burn)
        post = idata.posterior
        rows += rows_of(
            f"bayesgen {sampler}",
            post["sigma2_a"].values,
            post["sigma2_e"].values,
            post["cutpoints"].values[..., 0],
            seconds,
        )
    if r_missing is None:
        out, r_seconds, vcv, res = mcmcglmm_animal_traits(
            data[["id", "sex", "g", "b", "o"]],
            sim.pedigree,
            ["g", "b", "o"],
            ["gaussian", "threshold", "threshold"],
            "list(R = list(V = diag(3), nu = 4, fix = 2), G = list(G1 = list(V = diag(3), nu = 4)))",
            6000 if quick else 42000,
            factors=["b", "o"],
        )
        rows += rows_of("MCMCglmm", vcv, res, out.iloc[:, -1].to_numpy(), r_seconds)
    return report(
        rows,
        f"A Gaussian, a binary and a 3-category trait, {len(data)} records, pedigree of {len(sim.pedigree)} "
        f"(truth {', '.join(f'{k} {v:.2f}' for k, v in truth.items())})",
    )


def part_censored(quick: bool):
    sim = bg.simulate(
        n_founders=100, n_generations=3, n_offspring=150, n_markers=0, h2=0.4, family="censored", censoring=0.3, seed=11
    )
    data = sim.phenotypes.set_index("id", drop=False)
    data["naive"] = data["y"].fillna(data["lower"])
    draws, burn = (500, 250) if quick else (2000, 500)
    rows = []
    terms = [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object())]
    for label, column, options in (
        ("uncensored values", "y_uncensored", {}),
        ("censored fit", "y", dict(family="censored", bounds=("lower", "upper"))),
        ("naive (bounds as values)", "naive", {}),
    ):
        model = bg.Model(data, column, terms, sampler="collapsed", **options)
        idata, seconds = run_bayesgen(model, draws, burn)
        for name in ("sigma2_a", "sigma2_e", "h2"):
            rows.append(summarise(label, name, idata.posterior[name].values, seconds))
        rows.append(summarise(label, "intercept", idata.posterior["beta"].values[..., 0], seconds))
    print(
        f"\ncensored records: {data['y'].isna().mean():.1%}; truth sigma2_a {sim.truth['sigma2_a']}, "
        f"sigma2_e {sim.truth['sigma2_e']}, intercept (M) {sim.truth['mean']}"
    )
    return table(rows, "Censored Gaussian, 30% right-censoring")


def part_censored_beside(other: str, quick: bool, r_missing):
    """The ``censored`` part's right-censored trait y beside a Gaussian trait g (``other="gaussian"``,
    part ``censored_pair``) or a binary one d (``"threshold"``, part ``censored_binary``), both
    made from y's breeding values and residuals."""
    sim = bg.simulate(
        n_founders=100, n_generations=3, n_offspring=150, n_markers=0, h2=0.4, family="censored", censoring=0.3, seed=11
    )
    data = sim.phenotypes.set_index("id", drop=False)
    residual = data["y_uncensored"] - sim.truth["mean"] - data["true_bv"]
    if other == "gaussian":
        rng = np.random.default_rng(12)
        data["g"] = 5.0 + 0.8 * data["true_bv"] + 0.5 * residual + 0.6 * rng.standard_normal(len(data))
        traits, families, r_families = ["g", "y"], ["gaussian", "censored"], ["gaussian", "cengaussian"]
        fix, title = "", "A Gaussian trait beside a censored one"
    else:
        rng = np.random.default_rng(13)
        # the binary liability: residual variance 1, correlated 0.4 sqrt(sigma2_e) with the censored trait's
        noise = np.sqrt(1.0 - 0.16 * sim.truth["sigma2_e"]) * rng.standard_normal(len(data))
        data["d"] = (-0.6 + 0.8 * data["true_bv"] + 0.4 * residual + noise > 0).astype(int)
        # MCMCglmm's fix = 2 fixes R from its second trait on: the binary trait goes last
        traits, families, r_families = ["y", "d"], ["censored", "threshold"], ["cengaussian", "threshold"]
        fix, title = ", fix = 2", f"A censored trait beside a binary one (prevalence {data['d'].mean():.2f})"
    draws, burn = (500, 250) if quick else (2000, 500)
    first, second = traits
    c = traits.index("y")
    rows = []

    def pair_rows(side, sigma2_a, sigma2_e, seconds):
        return [
            summarise(side, f"sigma2_a[{first}]", sigma2_a[..., 0, 0], seconds),
            summarise(side, f"sigma2_a[{second}]", sigma2_a[..., 1, 1], seconds),
            summarise(side, f"sigma2_a[{first},{second}]", sigma2_a[..., 0, 1], seconds),
            summarise(side, "sigma2_e[y]", sigma2_e[..., c, c], seconds),
            summarise(side, f"sigma2_e[{first},{second}]", sigma2_e[..., 0, 1], seconds),
        ]

    for sampler in ("single-site", "joint"):
        model = bg.Model(
            data,
            traits,
            [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object(), prior=bg.InverseWishart(3.0, 3.0 * np.eye(2)))],
            sigma2_e=bg.InverseWishart(3.0, 3.0 * np.eye(2)),
            family=families,
            bounds=("lower", "upper"),
            sampler=sampler,
        )
        idata, seconds = run_bayesgen(model, draws, burn)
        rows += pair_rows(
            f"bayesgen {sampler}", idata.posterior["sigma2_a"].values, idata.posterior["sigma2_e"].values, seconds
        )
    if r_missing is None:
        # MCMCglmm's cengaussian trait: two columns, the bounds (equal for exact records, open sides inf)
        columns = {"id": data["id"], "sex": data["sex"]}
        for name in traits:
            if name == "y":
                columns["ylo"] = data["y"].fillna(data["lower"]).fillna(-np.inf)
                columns["yhi"] = data["y"].fillna(data["upper"]).fillna(np.inf)
            else:
                columns[name] = data[name]
        _, r_seconds, vcv, res = mcmcglmm_animal_traits(
            pd.DataFrame(columns),
            sim.pedigree,
            [name for name in columns if name not in ("id", "sex")],
            r_families,
            f"list(R = list(V = diag(2), nu = 3{fix}), G = list(G1 = list(V = diag(2), nu = 3)))",
            6000 if quick else 42000,
            factors=["d"] if other == "threshold" else (),
        )
        rows += pair_rows("MCMCglmm", vcv, res, r_seconds)
    return report(rows, f"{title}, {len(data)} records, {data['y'].isna().mean():.0%} censored")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short chains (a smoke run)")
    parser.add_argument(
        "--parts",
        default="real,binary,ordinal,pair,censored,censored_pair,censored_binary,threshold_traits,gaussian_binary_ordinal",
    )
    parser.add_argument(
        "--moves",
        choices=("on", "off", "both"),
        default="on",
        help="bayesgen's threshold fits with the scale and marginal group moves (default), without, or both",
    )
    args = parser.parse_args(argv)
    MOVES[:] = {"on": [True], "off": [False], "both": [True, False]}[args.moves]
    r_missing = r_available()
    if r_missing:
        print(f"MCMCglmm parts skipped: {r_missing}")
    parts = args.parts.split(",")
    if "real" in parts:
        part_real(args.quick, r_missing)
    if "binary" in parts:
        part_simulated("binary", args.quick, r_missing)
    if "ordinal" in parts:
        part_simulated("ordinal", args.quick, r_missing)
    if "pair" in parts:
        part_pair(args.quick, r_missing)
    if "censored" in parts:
        part_censored(args.quick)
    if "censored_pair" in parts:
        part_censored_beside("gaussian", args.quick, r_missing)
    if "censored_binary" in parts:
        part_censored_beside("threshold", args.quick, r_missing)
    if "threshold_traits" in parts:
        part_threshold_traits(args.quick, r_missing)
    if "gaussian_binary_ordinal" in parts:
        part_gaussian_binary_ordinal(args.quick, r_missing)


if __name__ == "__main__":
    main()
