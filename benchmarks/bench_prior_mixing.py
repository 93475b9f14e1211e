"""Mixing of BayesB, BayesLasso and BayesR with the shipped specs, with and without the rescaling move.

Each spec (``models/<spec>.toml``: 600 simulated records, 1,000 SNPs of which 20 QTL, h2 = 0.5)
is fitted as shipped, through ``bayesgen.cli.spec.load_spec``, once with the joint rescaling
move of the effects and their prior's scale (``Markers(expand=True)``, the default: the
non-centred update of BayesB's S^2, BayesLasso's lambda^2 and BayesR's sigma2_alpha) and,
with ``--before``, once without it (``expand=False``). The variants run one after the other
in the same process (same data, same seed, same chains). BayesB's other change, S^2 drawn
given the included markers' variances only, is in both variants (it has no switch); with
the sampler before both changes, scale and n_included had bulk ESS 14 and 65 (R-hat 1.22,
1.04) on this spec.

Reported per spec and variant: seconds of sampling (burn-in included), and for h2, sigma2_e,
sigma2_g, the prior's hyperparameters (scale, lambda2, sigma2_alpha, pi of each class) and
n_included: the posterior mean, bulk ESS over all chains, ESS per second and R-hat (arviz,
rank-normalised split R-hat); the acceptance rate of the move; the largest R-hat of the
effects of the 20 simulated QTL; for the spike-and-slab priors also the mean posterior
inclusion probability (PIP) at the QTL, the number of QTL with PIP > 0.5 and the largest
spread of a QTL's PIP between chains.

    python benchmarks/bench_prior_mixing.py [--specs bayesB bayesLasso bayesR] [--before]
        [--chains 4] [--burn 1000] [--draws 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

MODELS = Path(__file__).resolve().parents[1] / "models"
#: Hyperparameters read per prior (when recorded), besides h2, sigma2_e, sigma2_g.
HYPER = ("scale", "lambda2", "sigma2_alpha", "pi", "n_included")


def markers_term(model):
    from bayesgen.terms.markers import Markers

    (term,) = [t for t in model.terms if isinstance(t, Markers)]
    return term


def qtl_positions(spec_path: Path, genotypes) -> np.ndarray:
    """Indices of the simulated QTL among the model's markers (the spec's own simulation)."""
    import bayesgen as bg

    options = tomllib.loads(spec_path.read_text())["data"]["simulate"]
    qtl = bg.simulate(**options).truth["qtl"]
    markers = list(genotypes.markers)
    return np.array([markers.index(m) for m in qtl])


def scalar_draws(idata) -> dict[str, np.ndarray]:
    """(chain, draw) arrays of the quantities compared, one per class for BayesR's pi."""
    post = idata.posterior
    out = {}
    for name in ("h2", "sigma2_e", "var_g") + HYPER:
        if name not in post:
            continue
        value = post[name]
        extra = [d for d in value.dims if d not in ("chain", "draw")]
        if not extra:
            out[name] = value.values
        elif len(extra) == 1:
            for i in range(value.sizes[extra[0]]):
                out[f"{name}[{i}]"] = value.isel({extra[0]: i}).values
        # h2 / sigma2 of one trait have no extra dim here; anything else is not compared.
    return out


def effect_summary(idata, qtl: np.ndarray, spike_and_slab: bool) -> dict:
    """Worst R-hat of the QTL effects and, for spike-and-slab priors, their PIP and its spread between chains."""
    import arviz as az

    alpha = idata.posterior["alpha"].values  # chain x draw x marker
    at_qtl = alpha[:, :, qtl]
    out = {"max R-hat of QTL effects": float(np.nanmax([az.rhat(at_qtl[:, :, i]) for i in range(qtl.size)]))}
    if spike_and_slab:
        per_chain = (at_qtl != 0).mean(axis=1)  # chain x qtl
        pip = per_chain.mean(axis=0)
        out.update(
            {
                "mean PIP at QTL": float(pip.mean()),
                "QTL with PIP > 0.5": int((pip > 0.5).sum()),
                "max chain spread of a QTL PIP": float((per_chain.max(axis=0) - per_chain.min(axis=0)).max()),
            }
        )
    return out


def run(spec_path: Path, expand: bool, args) -> tuple[pd.DataFrame, dict]:
    import arviz as az

    from bayesgen.cli.spec import load_spec

    spec = load_spec(spec_path)
    term = markers_term(spec.model)
    term.expand = expand
    started = time.perf_counter()
    idata = spec.model.sample(
        draws=args.draws,
        burn=args.burn,
        chains=args.chains,
        seed=args.seed,
        progress=False,
        check_convergence=False,
        store="full",
    )
    seconds = time.perf_counter() - started
    rows = []
    for name, draws in scalar_draws(idata).items():
        ess = float(az.ess(draws, method="bulk")) if np.ptp(draws) > 0 else float("nan")
        rhat = float(az.rhat(draws)) if np.ptp(draws) > 0 else float("nan")
        rows.append(
            {"quantity": name, "mean": float(draws.mean()), "bulk ESS": ess, "ESS/s": ess / seconds, "R-hat": rhat}
        )
    extra = {"seconds": seconds}
    if "rescale_accept_markers" in idata.sample_stats:
        extra["rescale acceptance"] = float(idata.sample_stats["rescale_accept_markers"].mean())
    extra.update(effect_summary(idata, qtl_positions(spec_path, term.genotypes), term.prior.spike_and_slab))
    return pd.DataFrame(rows).set_index("quantity"), extra


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=["bayesB", "bayesLasso", "bayesR"])
    parser.add_argument("--before", action="store_true", help="also run without the rescaling move")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--burn", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; {args.chains} chains of {args.burn} + {args.draws} iterations, seed {args.seed}"
    )
    variants = [("before (no move)", False)] if args.before else []
    variants.append(("rescaling move", True))
    for name in args.specs:
        path = MODELS / f"{name}.toml"
        for label, expand in variants:
            table, extra = run(path, expand, args)
            facts = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in extra.items())
            print(f"\n{name}.toml, {label}: {facts}")
            with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
                print(table.to_string())


if __name__ == "__main__":
    main()
