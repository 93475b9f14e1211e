"""Geweke tests of the GL(t) move of a multi-trait random term (``bayesgen.sampler.covariance_move``).

The move runs after the term's own update (as ``build_blocks`` wires it) and, to check it does
not lean on the update before it, also before; with an inverse-Wishart G (near-singular
scale) and with the Huang-Wand prior, whose auxiliary variables the move holds fixed. A last
case plants a wrong power of |det M| (the effects' prior factor |det M|^{-q} left out, q = 8
levels: ``f(M) = p(MGM')|det M|^{q+1}``) and requires the harness to fail.
"""

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.priors import HuangWand, InverseWishart
from bayesgen.sampler.blocks import TermBlock
from bayesgen.sampler.covariance_move import CovarianceMoveBlock
from geweke import geweke_test

pytestmark = pytest.mark.statistical

TRAITS = ["y1", "y2", "y3"]


def residual_prior():
    # IW(12, S): variances Scale-inv-chi2(10, .) (finite fourth moments), correlations near 0.8.
    return InverseWishart(12.0, 6.0 * np.array([[1.0, 0.8, 0.6], [0.8, 1.0, 0.7], [0.6, 0.7, 1.0]]))


def data():
    rng = np.random.default_rng(21)
    groups = np.repeat(np.arange(8), 6)
    y = rng.standard_normal((groups.size, 3))
    frame = pd.DataFrame({"y1": y[:, 0], "y2": y[:, 1], "y3": y[:, 2], "grp": [f"g{k}" for k in groups]})
    frame.iloc[0, 1] = np.nan  # a missing trait: augmented, then counted as data by the move
    return frame


# G small against R (about 0.75 per trait), so that the successive-conditional chain, which
# alternates theta | y and y | theta, mixes fast enough for its batch-means errors to hold.
PRIORS = {
    "iw": lambda: InverseWishart(14.0, np.diag([5.5, 0.055, 4.4])),  # trait 2's variance near 0
    "huang-wand": lambda: HuangWand(14.0, [0.7, 0.5, 0.6]),
}


class NoEffectsPriorFactor(HuangWand):
    """Planted error seen only by the move: log p(MGM') gains q log|det M| (|det M|^{q+1} in f, q = 8)."""

    def log_density(self, value, aux=None):
        return super().log_density(value, aux) + 4.0 * np.linalg.slogdet(value)[1]


def model_with_move(prior, order):
    model = bg.Model(data(), TRAITS, [bg.Random("grp", variance=prior)], sigma2_e=residual_prior())
    term_block, residual_block = TermBlock(0, model.terms[0]), TermBlock(1, model.terms[1])
    move = CovarianceMoveBlock(0, model.terms[0])
    model.blocks = [term_block, move, residual_block] if order == "after" else [move, term_block, residual_block]
    return model


def test_build_blocks_puts_the_move_after_the_term():
    model = bg.Model(data(), TRAITS, [bg.Random("grp", variance=PRIORS["iw"]())], sigma2_e=residual_prior())
    assert [b.describe()["block"] for b in model.blocks][:2] == ["term", "GL(t) move"]
    fixed = bg.Model(data(), TRAITS, [bg.Random("grp", variance=np.eye(3))], sigma2_e=residual_prior())
    assert not any(isinstance(b, CovarianceMoveBlock) for b in fixed.blocks)
    one = bg.Model(data(), "y1", [bg.Random("grp")])
    assert not any(isinstance(b, CovarianceMoveBlock) for b in one.blocks)


@pytest.mark.parametrize("prior", sorted(PRIORS))
@pytest.mark.parametrize("order", ["after", "before"])
def test_geweke(prior, order):
    result = geweke_test(model_with_move(PRIORS[prior](), order), n_marginal=3000, n_successive=6000, seed=31)
    print(result)
    assert result.passed, str(result)


def test_planted_determinant_power_fails():
    result = geweke_test(model_with_move(NoEffectsPriorFactor(14.0, [0.7, 0.5, 0.6]), "after"),
                         n_marginal=3000, n_successive=6000, seed=31)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 1.5 * result.threshold, str(result)
