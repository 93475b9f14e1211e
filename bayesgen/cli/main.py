"""The ``bayesgen`` command: ``bayesgen fit SPEC`` runs a declarative model spec."""

from __future__ import annotations

import argparse
import sys

from .spec import SpecError, load_spec


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayesgen", description="Bayesian genomic prediction by Gibbs sampling.")
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit a model spec (models/*.toml) and write the InferenceData")
    fit.add_argument("spec", help="path to a TOML model spec")
    fit.add_argument("--draws", type=int, help="override [sampler] draws")
    fit.add_argument("--burn", type=int, help="override [sampler] burn")
    fit.add_argument("--thin", type=int, help="override [sampler] thin")
    fit.add_argument("--chains", type=int, help="override [sampler] chains")
    fit.add_argument("--seed", type=int, help="override [sampler] seed")
    fit.add_argument("--output", help="override [output] path (netCDF)")
    fit.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def scalar_summary(idata):
    """``az.summary`` of the scalar parameters and the fixed effects."""
    import arviz as az

    names = [n for n, v in idata.posterior.data_vars.items() if v.ndim == 2 or n == "beta"]
    return az.summary(idata, var_names=names)


def fit(args) -> int:
    overrides = {k: getattr(args, k) for k in ("draws", "burn", "thin", "chains", "seed")}
    overrides["output"] = args.output
    spec = load_spec(args.spec, overrides)
    print(spec.model, flush=True)
    idata = spec.model.sample(progress=not args.no_progress, **spec.sampler)
    if spec.output is not None:
        spec.output.parent.mkdir(parents=True, exist_ok=True)
        idata.to_netcdf(str(spec.output))
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(scalar_summary(idata).to_string())
    if spec.output is not None:
        print(f"InferenceData written to {spec.output}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fit":
            return fit(args)
    except (SpecError, ValueError, KeyError, TypeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"bayesgen: error: {message}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
