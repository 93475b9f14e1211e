"""Convergence diagnostics with arviz: R-hat, ESS, trace plots and LOO.

Run:  python examples/diagnostics.py   (writes diagnostics_trace.png in the current directory)
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds; the test suite uses it.)
"""

import os

import arviz as az
import matplotlib

matplotlib.use("Agg")  # write the figure to a file; no window

import bayesgen as bg

if os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1":
    size = dict(n_founders=30, n_generations=2, n_offspring=50)
    run = dict(draws=100, burn=50, chains=2)
else:
    size = dict(n_founders=60, n_generations=3, n_offspring=150)
    run = dict(draws=1500, burn=500, chains=4)

sim = bg.simulate(**size, n_markers=0, h2=0.3, seed=5)
model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
idata = model.sample(**run, seed=5)

print(az.rhat(idata, var_names=["sigma2_a", "sigma2_e", "h2"]))
print(az.ess(idata, var_names=["sigma2_a", "sigma2_e", "h2"]))
print(az.loo(idata))
axes = az.plot_trace(idata, var_names=["sigma2_a", "sigma2_e", "h2"])
figure = axes.ravel()[0].figure
figure.tight_layout()
figure.savefig("diagnostics_trace.png", dpi=80)
print("trace plot written to diagnostics_trace.png")
