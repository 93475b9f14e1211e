"""SOLAR's three family models (Almasy & Blangero 1998) on simulated extended families.

1. Bivariate polygenic model: two traits with a genetic correlation rho_g (the animal term's
   2 x 2 covariance) and an environmental one rho_e (the residual's).
2. Linkage model: the polygenic term plus a locus-specific term whose covariance is the IBD
   matrix Pi at the locus (``bg.Kernel``), compared with the polygenic model alone by LOO
   (``az.compare``): SOLAR's LOD score compares the same two models by likelihood ratio.
3. Association model: each SNP of a list as a fixed covariate beside the polygenic term;
   the posterior of its effect and a two-sided tail probability.

The families: ``n_families`` founder couples with ``n_children`` children each; every child
marries a founder spouse and has ``n_children`` children (three generations). Polygenic
values are drawn from N(0, sigma2_a A); a QTL with one distinct allele per founder chromosome
is dropped through the pedigree, so its IBD matrix is known exactly
(Pi_ij = 2 x kinship at the locus: (1/2) the number of shared IBD alleles, 1 + F_i on the
diagonal); its allele effects are N(0, sigma2_q/2), so the QTL values have covariance
sigma2_q Pi. Biallelic SNPs are dropped the same way; one of them has an effect. The
bivariate pair (y1, y2) is polygenic only; the trait q = y1 + QTL + the SNP's effect is the
one scanned by the linkage and association models.

Run:  python examples/solar_models.py
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds; the test suite uses it.)
"""

import os

import arviz as az
import numpy as np
import pandas as pd

import bayesgen as bg

QUICK = os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1"
if QUICK:
    size = dict(n_families=6, n_children=3, n_snps=2)
    run = dict(draws=40, burn=20, chains=2, progress=False, check_convergence=False)
else:
    size = dict(n_families=60, n_children=4, n_snps=10)
    run = dict(draws=1000, burn=500, chains=4)


def extended_families(n_families: int, n_children: int, rng):
    """Ids, sires and dams (parents first) of three-generation families."""
    ids, sires, dams = [], [], []

    def add(animal, sire, dam):
        ids.append(animal), sires.append(sire), dams.append(dam)

    for f in range(n_families):
        add(f"F{f}_gf", None, None), add(f"F{f}_gm", None, None)
        for c in range(n_children):
            child, spouse = f"F{f}_c{c}", f"F{f}_s{c}"
            add(child, f"F{f}_gf", f"F{f}_gm"), add(spouse, None, None)
            father, mother = (child, spouse) if rng.random() < 0.5 else (spouse, child)
            for g in range(n_children):
                add(f"F{f}_c{c}_g{g}", father, mother)
    return ids, sires, dams


def drop_alleles(ids, sires, dams, founder_allele, rng) -> np.ndarray:
    """(animals x 2) alleles: founders draw theirs, others get one at random from each parent."""
    position = {a: k for k, a in enumerate(ids)}
    alleles = np.empty((len(ids), 2), dtype=np.int64)
    for k, (sire, dam) in enumerate(zip(sires, dams)):
        if sire is None:
            alleles[k] = [founder_allele(), founder_allele()]
        else:
            alleles[k] = [alleles[position[sire], rng.integers(2)], alleles[position[dam], rng.integers(2)]]
    return alleles


def ibd_matrix(alleles: np.ndarray) -> np.ndarray:
    """Pi = 2 x kinship at the locus: (1/2) sum over allele pairs of identity by descent."""
    return 0.5 * sum((alleles[:, [a]] == alleles[:, b][None, :]).astype(float) for a in (0, 1) for b in (0, 1))


rng = np.random.default_rng(2024)
ids, sires, dams = extended_families(size["n_families"], size["n_children"], rng)
pedigree = bg.Pedigree(ids, sires, dams)
A = pedigree.relationship().loc[ids, ids].to_numpy()
n = len(ids)
chol_a = np.linalg.cholesky(A)

# --- two traits: genetic correlation 0.6, environmental -0.3 -------------------------------
G = np.array([[0.4, 0.6 * np.sqrt(0.4 * 0.3)], [0.6 * np.sqrt(0.4 * 0.3), 0.3]])
R = np.array([[0.6, -0.3 * np.sqrt(0.6 * 0.7)], [-0.3 * np.sqrt(0.6 * 0.7), 0.7]])
polygenic = chol_a @ rng.standard_normal((n, 2)) @ np.linalg.cholesky(G).T
noise = rng.standard_normal((n, 2)) @ np.linalg.cholesky(R).T

# --- a QTL (trait q) with distinct founder alleles: Pi known exactly ------------------------
counter = iter(range(10**9))
qtl = drop_alleles(ids, sires, dams, lambda: next(counter), rng)
sigma2_q = 0.5
allele_effect = rng.normal(0.0, np.sqrt(sigma2_q / 2), qtl.max() + 1)
qtl_value = allele_effect[qtl].sum(axis=1)
Pi = pd.DataFrame(ibd_matrix(qtl), index=ids, columns=ids)
unlinked = drop_alleles(ids, sires, dams, lambda: next(counter), rng)  # an IBD matrix away from the QTL
Pi_unlinked = pd.DataFrame(ibd_matrix(unlinked), index=ids, columns=ids)

# --- SNPs (allele frequency 0.3); the first has effect 0.4 on trait q -----------------------
snps = [f"snp{k}" for k in range(size["n_snps"])]
genotypes = np.column_stack(
    [drop_alleles(ids, sires, dams, lambda: int(rng.random() < 0.3), rng).sum(axis=1) for _ in snps]
)

# Allele counts as float: an additive covariate each (integer codes would warn as a likely factor).
data = pd.DataFrame({"id": ids}).assign(**{s: genotypes[:, k].astype(float) for k, s in enumerate(snps)})
data["y1"] = 10.0 + polygenic[:, 0] + noise[:, 0]  # the bivariate pair: polygenic only
data["y2"] = 5.0 + polygenic[:, 1] + noise[:, 1]
data["q"] = data["y1"] + qtl_value + 0.4 * genotypes[:, 0]  # y1 plus the QTL and snp0's effect
data = data[[s is not None for s in sires]].reset_index(drop=True)  # founders have no records
print(f"{len(data)} records in {size['n_families']} families; pedigree of {n}")

# 1. Bivariate polygenic model ---------------------------------------------------------------
bivariate = bg.Model(data, ["y1", "y2"], [bg.Fixed(), bg.Animal("id", pedigree)])
idata = bivariate.sample(**run, seed=1)
print(az.summary(idata, var_names=["rho_animal", "rho_e", "h2"], coords={"trait_row": ["y1"], "trait_col": ["y2"]}))
print("true rho_g = 0.6, rho_e = -0.3")

# 2. Linkage model at the QTL and at an unlinked locus ----------------------------------------
run_loo = dict(run, check_convergence=False)
polygenic_only = bg.Model(data, "q", [bg.Fixed(), bg.Animal("id", pedigree)]).sample(**run_loo, seed=2)
fits = {"polygenic": polygenic_only}
for label, ibd in (("QTL", Pi), ("unlinked", Pi_unlinked)):
    linkage = bg.Model(data, "q", [bg.Fixed(), bg.Animal("id", pedigree), bg.Kernel("id", ibd, name="locus")])
    fits[f"polygenic + {label}"] = linkage.sample(**run_loo, seed=3)
    s2 = fits[f"polygenic + {label}"].posterior["sigma2_locus"]
    print(f"{label}: sigma2_locus median {float(s2.median()):.3f} (true {sigma2_q if label == 'QTL' else 0.0})")
print(az.compare(fits, ic="loo")[["rank", "elpd_loo", "elpd_diff", "dse"]])

# 3. Association model, one SNP at a time -----------------------------------------------------
rows = []
for snp in snps:
    fit = bg.Model(data, "q", [bg.Fixed([snp]), bg.Animal("id", pedigree)]).sample(**run_loo, seed=4)
    beta = fit.posterior["beta"].sel(coef=snp).values.ravel()
    low, high = np.quantile(beta, [0.025, 0.975])
    tail = 2 * min(np.mean(beta > 0), np.mean(beta < 0))  # two-sided posterior tail probability
    rows.append({"snp": snp, "mean": beta.mean(), "2.5%": low, "97.5%": high, "tail_prob": tail})
print(pd.DataFrame(rows).set_index("snp").round(3))
print("true effects: snp0 = 0.4, the others 0")
