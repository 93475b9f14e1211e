"""Real data against BGLR 1.1.5 under its default priors (issue 8, "Real data").

BGLR's figures (posterior means of the residual variance from the same data, default priors):
wheat env1 (599 lines x 1,279 DArT markers) BRR 0.546, BayesB 0.548, BayesC 0.550, BL 0.561;
mice Obesity.BMI (1,814 x 10,346 SNPs) BRR 0.00287, BayesC 0.00269. Our models use
``priors="bglr"`` (residual Scale-inv-chi2(5) with its mode at half of Var(y)) and the marker
priors' BGLR-style defaults (R2 rule); BGLR's BayesB and BayesC sample pi by default
(probIn 0.5, counts 10), so ours do too (``bg.Beta(5.5, 5.5)``; with over 1,000 markers the
prior on pi is negligible next to the counts of included markers).

Tolerance: |our mean - BGLR| <= 4 sqrt(2) MCSE + allowance. BGLR's Monte Carlo error is not
published; it is taken equal to ours (hence sqrt(2)). The allowance, 2% of BGLR's value, covers
what still differs between the two setups and is not Monte Carlo error: BGLR's figure is one
chain of unknown length and starting point, BGLR's Beta prior on pi (from probIn 0.5 and
counts 10) may differ slightly from our Beta(5.5, 5.5), and BGLR's Bayesian LASSO scales the effects'
prior by sigma2_e, ours does not (README, Priors). On wheat 2% is about a fifth of the posterior
sd of sigma2_e (0.046), so the test still fails for an error of one posterior sd.

Measured (seed 8): wheat BRR 0.5440, BayesB 0.5478, BayesC(pi) 0.5463, BL 0.5463 (MCSE 0.002 to
0.004); mice BRR 0.002886 (MCSE 2.5e-5).

Not tested here: mice BayesC (BGLR sigma2_e 0.00269, pi about 0.03). Our BayesCpi chain moves pi
as a slow random walk on these data: one chain of 15,000 iterations from pi = 0.5 (seed 7, 189 s
of CPU) stayed between 0.3 and 0.5 for 5,000 iterations and reached BGLR's values (pi 0.022 to
0.028, sigma2_e 0.00267 to 0.00270 per block of 1,000) only over the last 4,000, after one
excursion back to 0.15, so a 60-second fit cannot check pi (README, Prediction).

Skipped where ../shared is absent. CPU time about 50 s (wheat 23 s, mice 27 s); on the shared
2-core development machine under load, 2 to 3 minutes of wall time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, mcse_mean

import bayesgen as bg

pytestmark = pytest.mark.statistical

#: Allowance for differences between the setups that are not Monte Carlo error (see the module docstring).
ALLOWANCE = 0.02


def _check(label: str, draws: np.ndarray, bglr: float) -> None:
    mean, mcse = float(draws.mean()), mcse_mean(draws)
    tolerance = 4 * np.sqrt(2) * mcse + ALLOWANCE * bglr
    print(
        f"{label}: sigma2_e {mean:.5g} (MCSE {mcse:.2g}, posterior sd {draws.std():.2g}) vs BGLR {bglr}, "
        f"|difference| {abs(mean - bglr):.2g} <= {tolerance:.2g}"
    )
    assert abs(mean - bglr) <= tolerance, (label, mean, bglr, tolerance)


def _data_dir():
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared is absent)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def wheat():
    data_dir = _data_dir()
    x = pd.read_csv(data_dir / "wheat_X.csv.gz")
    records = pd.read_csv(data_dir / "wheat_Y.csv")[["line_id", "env1"]]
    genotypes = bg.Genotypes(x["line_id"], x.drop(columns="line_id").to_numpy(np.int8), list(x.columns[1:]))
    return records, genotypes


@pytest.mark.parametrize("label, bglr", [("BRR", 0.546), ("BayesB", 0.548), ("BayesC", 0.550), ("BayesLasso", 0.561)])
def test_wheat_env1_residual_variance_matches_bglr(wheat, label, bglr):
    records, genotypes = wheat
    pi = bg.Beta(5.5, 5.5)
    model = {
        "BRR": lambda: bg.BRR(records, "env1", "line_id", genotypes, priors="bglr"),
        "BayesB": lambda: bg.BayesB(records, "env1", "line_id", genotypes, pi=pi, priors="bglr"),
        "BayesC": lambda: bg.BayesCPi(records, "env1", "line_id", genotypes, pi=pi, priors="bglr"),
        "BayesLasso": lambda: bg.BayesLasso(records, "env1", "line_id", genotypes, priors="bglr"),
    }[label]()
    idata = model.sample(
        draws=1500, burn=500, chains=4, seed=8, progress=False, check_convergence=False, store="summary"
    )
    _check(f"wheat {label}", idata.posterior["sigma2_e"].values, bglr)


def test_mice_bmi_brr_residual_variance_matches_bglr():
    """Mice Obesity.BMI (1,814 x 10,346), BRR: BGLR 0.00287. About 45 s: sigma2_e mixes slowly here
    (bulk ESS about 25 per 1,000 draws), so the MCSE term dominates the tolerance (under 2 posterior sd)."""
    data_dir = _data_dir()
    genotypes = bg.Genotypes.from_csv(data_dir / "mice_X.csv.gz", column="SUBJECT.NAME")
    records = pd.read_csv(
        data_dir / "mice_pheno.csv", usecols=["SUBJECT.NAME", "Obesity.BMI"], dtype={"SUBJECT.NAME": str}
    )
    model = bg.BRR(records, "Obesity.BMI", "SUBJECT.NAME", genotypes, priors="bglr")
    idata = model.sample(
        draws=500, burn=250, chains=2, seed=8, progress=False, check_convergence=False, store="summary"
    )
    _check("mice BRR", idata.posterior["sigma2_e"].values, 0.00287)
