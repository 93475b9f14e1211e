r"""Model formulas: ``bwt ~ sex + (1|byear) + (1|mother) + animal(id)`` to a list of terms.

The grammar is lme4's and brms's, with the genetic terms as functions:

==============================  =========================================================
``y ~ 1 + sex + x``             fixed effects, parsed by formulaic (Wilkinson formulas):
                                interactions ``a:b``, ``a*b``, ``C(x)``, ``np.log(x)``, ...
``(1|g)``                       ``Random("g")``: iid effects of the levels of ``g``
``(1 + x|g)``                   ``Random("g", slopes=["x"], structure="us")`` (correlated)
``(1 + x||g)``                  ``Random("g", slopes=["x"], structure="diag")``
``(0 + x|g)``                   slopes without the random intercept (``intercept=False``)
``animal(id)``                  ``Animal("id", pedigree)`` (needs ``pedigree=``)
``maternal(id, dam)``           ``Animal("id", pedigree, maternal="dam")``
``markers(id, prior="BayesCpi")``  ``Markers("id", genotypes, prior=BayesCPrior(pi=Beta(5.5, 5.5)))``
``kernel(id, K)``               ``Kernel("id", K)``; ``K`` from ``kernels=`` or the caller's variables
``cbind(a, b) ~ trait:sex``     several traits (``trait:x`` and ``x`` are the same: every fixed
                                effect has one coefficient per trait, as brms's ``mvbind``)
==============================  =========================================================

``animal``, ``markers`` and ``kernel`` take ``name="..."``; ``markers`` its ``prior`` by name
(``BayesA`` (default), ``BayesB``, ``BayesC``, ``BayesCpi``, ``BRR``, ``BayesLasso``, ``BayesR``).
Variance priors come from ``priors={name: prior}``, keyed by term name (``"byear"``,
``"animal"``, ``"markers"``) or by the recorded variance (``"sigma2_byear"``, ``"sigma2_a"``,
``"sigma2_e"``); a marker term takes a ``MarkerPrior`` there.

formulaic has no lme4 bar syntax, so :func:`parse` splits the right-hand side itself: a small
tokenizer cuts it at the top-level ``+``/``-`` and keeps each term's position in the text, so
that every error (a :class:`FormulaError`, a ``ValueError``) names the token at fault and points
at it. The fixed part goes to formulaic; when it holds plain columns only it becomes
``Fixed(columns)`` (bayesgen's own coding, the same design as a term-list model), else
formulaic's model matrix (``Fixed(matrix=..., names=...)``).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    pass

#: The genetic terms written as functions.
SPECIAL_TERMS = ("animal", "maternal", "markers", "kernel")
#: Marker priors by name (lower case) -> factory of the prior object.
MARKER_PRIOR_NAMES = ("BayesA", "BayesB", "BayesC", "BayesCpi", "BRR", "BayesLasso", "BayesR")


class FormulaError(ValueError):
    """A malformed formula or one that does not fit the data: the message names the token and
    shows where it is."""

    def __init__(self, message: str, formula: str, start: int, end: int):
        self.token = formula[start:end]
        self.position = start
        pointer = " " * start + "^" * max(end - start, 1)
        named = "" if repr(self.token) in message or not self.token else f" (at {self.token!r})"
        super().__init__(f"{message}{named}\n    {formula}\n    {pointer}")


@dataclass
class Token:
    """A piece of the formula and where it is (``start:end`` in the text)."""

    text: str
    start: int
    end: int
    sign: str = "+"
    separator: int = -1  # where the separator before it is (-1: none)


@dataclass
class ParsedFormula:
    """The formula cut into its parts (no data looked at)."""

    text: str
    traits: list
    trait_tokens: list
    rhs: Token = field(default_factory=lambda: Token("", 0, 0))
    trait_texts: list = field(default_factory=list)  # the formula each trait comes from (a list of formulas)
    fixed: list = field(default_factory=list)  # Tokens of the fixed part (formulaic's)
    random: list = field(default_factory=list)  # (Token, intercept, slopes, structure, group Token)
    special: list = field(default_factory=list)  # (Token, function, ast.Call)
    intercept: bool = True
    intercept_token: Token | None = None
    order: list = field(default_factory=list)  # ("random" | "special", index): the terms as written


# --------------------------------------------------------------------------- tokenizer
def _split_top(text: str, offset: int, separators: str, formula: str) -> list[Token]:
    """Cut ``text`` at the characters of ``separators`` outside parentheses, brackets, quotes and
    backticks; each piece keeps its position (``offset`` is where ``text`` starts in the formula)
    and the separator before it (``sign``)."""
    pieces, depth, quote, start, sign = [], 0, None, 0, "+"
    opened = []
    for k, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"`":
            quote = char
        elif char in "([":
            depth += 1
            opened.append(k)
        elif char in ")]":
            if depth == 0:
                raise FormulaError(
                    f"Unbalanced {char!r}: no matching opening parenthesis", formula, offset + k, offset + k + 1
                )
            depth -= 1
            opened.pop()
        elif depth == 0 and char in separators:
            pieces.append((start, k, sign))
            start, sign = k + 1, char
    if quote:
        position = offset + text.rindex(quote)
        raise FormulaError(f"Unclosed quote {quote}", formula, position, position + 1)
    if depth:
        raise FormulaError(
            "Unbalanced '(': no matching closing parenthesis", formula, offset + opened[-1], offset + opened[-1] + 1
        )
    pieces.append((start, len(text), sign))
    out = []
    for a, b, sign in pieces:
        piece = text[a:b]
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        out.append(
            Token(stripped, offset + a + lead, offset + a + lead + len(stripped), sign, offset + a - 1 if a > 0 else -1)
        )
    return out


def _name_of(node, token: Token, formula: str, what: str) -> str:
    """A column name from an argument: a bare name, a dotted name (``Obesity.BMI``) or a string."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute):
        try:
            return f"{_name_of(node.value, token, formula, what)}.{node.attr}"
        except FormulaError:
            pass
    raise FormulaError(f"{what} must be a column name", formula, token.start, token.end)


def _column_token(text: str, token: Token, formula: str) -> str:
    """A bare column name (backticks allowed) or an error naming ``token``."""
    name = text.strip()
    if name.startswith("`") and name.endswith("`") and len(name) > 2:
        return name[1:-1]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
        raise FormulaError(f"Expected a column name, got {name!r}", formula, token.start, token.end)
    return name


def parse(formula: str) -> ParsedFormula:
    """Cut ``formula`` into traits, fixed tokens, random terms and genetic terms (no data needed)."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ x + (1|g)', got {type(formula).__name__}.")
    sides = _split_top(formula, 0, "~", formula)
    if len(sides) != 2:
        if len(sides) == 1:
            raise FormulaError("A formula needs one '~' between the response and the terms", formula, 0, len(formula))
        second = sides[2].separator
        raise FormulaError("A formula has one '~'; this is a second one", formula, second, second + 1)
    lhs, rhs = sides
    if not lhs.text:
        raise FormulaError("The response (left of '~') is missing", formula, rhs.separator, rhs.separator + 1)
    traits, trait_tokens = _response(lhs, formula)
    parsed = ParsedFormula(formula, traits, trait_tokens, rhs, [formula] * len(traits))
    if not rhs.text:
        raise FormulaError(
            "The terms (right of '~') are missing; write '1' for the mean only",
            formula,
            rhs.separator,
            rhs.separator + 1,
        )
    tokens = _split_top(formula[rhs.start : rhs.end], rhs.start, "+-", formula)
    tokens[0].separator = rhs.separator  # the first term follows the '~'
    for token in tokens:
        _classify(token, parsed, formula)
    return parsed


def _response(lhs: Token, formula: str) -> tuple[list, list]:
    call = re.fullmatch(r"(cbind|mvbind)\s*\((.*)\)", lhs.text, flags=re.S)
    if call is None:
        return [_column_token(lhs.text, lhs, formula)], [lhs]
    inner_start = lhs.start + lhs.text.index("(") + 1
    tokens = _split_top(call.group(2), inner_start, ",", formula)
    for t in tokens:
        if not t.text:
            at = t.separator if t.separator >= inner_start else inner_start - 1
            raise FormulaError("Empty response in cbind()", formula, at, at + 1)
    names = [_column_token(t.text, t, formula) for t in tokens]
    seen = set()
    for name, t in zip(names, tokens):
        if name in seen:
            raise FormulaError(f"The response {name!r} appears twice", formula, t.start, t.end)
        seen.add(name)
    if len(names) < 2:
        raise FormulaError(f"{call.group(1)}() takes two responses or more", formula, lhs.start, lhs.end)
    return names, tokens


def _classify(token: Token, parsed: ParsedFormula, formula: str) -> None:
    text = token.text
    if not text:
        at = max(token.separator, 0)
        raise FormulaError(f"Empty term after {formula[at]!r}", formula, at, at + 1)
    if text in ("0", "1"):
        keep = (text == "1") == (token.sign == "+")
        parsed.intercept, parsed.intercept_token = keep, token
        return
    if text.startswith("(") and text.endswith(")") and _has_bar(text):
        if token.sign == "-":
            raise FormulaError("A random term cannot be removed with '-'", formula, token.start, token.end)
        parsed.random.append(_random_term(token, formula))
        parsed.order.append(("random", len(parsed.random) - 1))
        return
    head = re.match(r"([A-Za-z_]\w*)\s*\(", text)
    if head and head.group(1) in SPECIAL_TERMS and text.endswith(")"):
        if token.sign == "-":
            raise FormulaError(f"{head.group(1)}() cannot be removed with '-'", formula, token.start, token.end)
        try:
            call = ast.parse(text, mode="eval").body
        except SyntaxError:
            raise FormulaError(
                f"Cannot read the arguments of {head.group(1)}()", formula, token.start, token.end
            ) from None
        if not isinstance(call, ast.Call):
            raise FormulaError(f"Cannot read {head.group(1)}()", formula, token.start, token.end)
        parsed.special.append((token, head.group(1), call))
        parsed.order.append(("special", len(parsed.special) - 1))
        return
    if token.sign == "-":
        raise FormulaError(
            "Only the intercept can be removed ('- 1'); leave the term out instead", formula, token.start, token.end
        )
    parsed.fixed.append(token)


def _has_bar(text: str) -> bool:
    depth = 0
    for char in text[1:-1]:
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and char == "|":
            return True
    return False


def _random_term(token: Token, formula: str):
    inner, offset = token.text[1:-1], token.start + 1
    bar = inner.index("|")
    double = inner[bar : bar + 2] == "||"
    left = Token(inner[:bar].strip(), offset, offset + bar)
    group_text = inner[bar + (2 if double else 1) :]
    group_start = offset + bar + (2 if double else 1) + (len(group_text) - len(group_text.lstrip()))
    group = Token(group_text.strip(), group_start, group_start + len(group_text.strip()))
    if not group.text:
        raise FormulaError("A random term needs a grouping column after '|'", formula, token.start, token.end)
    if "|" in group.text:
        raise FormulaError("One '|' (or '||') per random term", formula, group.start, group.end)
    _column_token(group.text, group, formula)
    if not left.text:
        raise FormulaError("A random term needs '1' (or slopes) before '|'", formula, token.start, token.end)
    intercept, slopes = True, []
    for part in _split_top(left.text, left.start + (len(inner[:bar]) - len(inner[:bar].lstrip())), "+-", formula):
        if part.text in ("0", "1"):
            intercept = (part.text == "1") == (part.sign == "+")
        elif part.sign == "-":
            raise FormulaError(
                "Only the intercept can be removed in a random term ('0 +' or '- 1')", formula, part.start, part.end
            )
        else:
            slopes.append((_column_token(part.text, part, formula), part))
    if not slopes and not intercept:
        raise FormulaError("This random term has neither an intercept nor slopes", formula, token.start, token.end)
    if double and not slopes:
        raise FormulaError("'||' (uncorrelated) needs slopes, e.g. (1 + x || g)", formula, token.start, token.end)
    return token, intercept, slopes, ("diag" if double else "us"), group


# --------------------------------------------------------------------------- terms
def build_terms(
    parsed: ParsedFormula,
    data: pd.DataFrame,
    pedigree=None,
    genotypes=None,
    priors=None,
    kernels=None,
    env: dict | None = None,
) -> tuple[list, object]:
    """The terms of ``parsed`` on ``data`` and the residual prior (``priors["sigma2_e"]``).

    Every check that needs the data (columns, pedigree, genotypes, kernel matrices) runs here and
    names its token.
    """
    from ..terms import Animal, Kernel, Markers, Random

    formula = parsed.text
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    for name, token, text in zip(parsed.traits, parsed.trait_tokens, parsed.trait_texts):
        _require(name, token, data, text, "response")
    priors = _Priors(priors)
    terms: list = []
    tokens: list[Token | None] = []  # each term and the token it comes from (None: the fixed part)
    fixed = _fixed_term(parsed, data, priors.take("beta", None, None))
    if fixed is not None:
        terms.append(fixed)
        tokens.append(None)
    for kind, index in parsed.order:
        if kind == "special":
            token, function, call = parsed.special[index]
            terms.append(
                _special_term(
                    token,
                    function,
                    call,
                    parsed,
                    data,
                    pedigree,
                    genotypes,
                    priors,
                    kernels,
                    env,
                    Animal,
                    Kernel,
                    Markers,
                )
            )
            tokens.append(token)
            continue
        token, intercept, slopes, structure, group = parsed.random[index]
        column = _column_token(group.text, group, formula)
        _require(column, group, data, formula, "grouping column")
        for name, part in slopes:
            _require(name, part, data, formula, "slope column")
        slope_names = [name for name, _ in slopes] or None
        prior = priors.take(column, None, f"sigma2_{column}")
        terms.append(
            Random(
                column,
                prior=prior,
                slopes=slope_names,
                structure=structure if slope_names else None,
                intercept=intercept,
            )
        )
        tokens.append(token)
    names: dict = {}
    for term, token in zip(terms, tokens):
        if term.name in names:
            where = token or Token(term.name, 0, len(formula))
            raise FormulaError(
                f'Two terms are both named {term.name!r}; give one a name= (e.g. animal(id, name="dom"))',
                formula,
                where.start,
                where.end,
            )
        names[term.name] = term
    sigma2_e = priors.take_residual()
    priors.check_used(names)
    return terms, sigma2_e


def _require(name: str, token: Token, data: pd.DataFrame, formula: str, what: str) -> None:
    if name not in data.columns:
        from .._validation import preview

        raise FormulaError(
            f"The {what} {name!r} is not a column of data (columns: {preview(list(data.columns), limit=12)})",
            formula,
            token.start,
            token.end,
        )


def _fixed_term(parsed: ParsedFormula, data: pd.DataFrame, prior=None):
    """``Fixed(columns)`` for plain columns, else formulaic's model matrix; None without any column
    and without the intercept. With several traits ``trait`` is the per-trait intercept (MCMCglmm's
    ``trait - 1``) and ``trait:x`` is ``x``: each fixed effect has one coefficient per trait."""
    from ..terms import Fixed

    formula = parsed.text
    several = len(parsed.traits) > 1
    intercept = parsed.intercept
    pieces = []  # (formulaic text, token)
    for token in parsed.fixed:
        text = token.text
        if several and text == "trait":
            intercept = True
            continue
        if several and text.startswith("trait:"):
            text = text[len("trait:") :].strip()
        elif not several and (text == "trait" or text.startswith("trait:")) and "trait" not in data.columns:
            raise FormulaError(
                "'trait' refers to the traits of cbind(...); this formula has one response",
                formula,
                token.start,
                token.start + len("trait"),
            )
        pieces.append((text, token))
    plain = [text for text, _ in pieces if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*|`[^`]+`", text)]
    if len(plain) == len(pieces):
        columns = [text.strip("`") for text in plain]
        for column, (_, token) in zip(columns, pieces):
            _require(column, token, data, formula, "fixed-effect column")
        if not columns and not intercept:
            return None
        return Fixed(columns, intercept=intercept, prior=prior)
    return _formulaic_fixed(pieces, intercept, formula, data, prior)


def _formulaic_fixed(pieces, intercept: bool, formula: str, data: pd.DataFrame, prior=None):
    """The fixed part through formulaic: each term checked alone (so that an error names it), then
    the model matrix of all of them."""
    import formulaic

    from ..terms import Fixed

    rhs_start = "1" if intercept else "0"
    for text, token in pieces:
        try:
            formulaic.model_matrix(f"{rhs_start} + {text}", data, na_action="raise")
        except Exception as err:  # formulaic raises many types; each is the user's term at fault
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise FormulaError(
                f"The fixed-effect term {text!r} cannot be evaluated on data ({detail})",
                formula,
                token.start,
                token.end,
            ) from None
    matrix = formulaic.model_matrix(" + ".join([rhs_start] + [text for text, _ in pieces]), data, na_action="raise")
    frame = pd.DataFrame(matrix)
    return Fixed(
        matrix=frame.to_numpy(dtype=float), names=[str(c) for c in frame.columns], intercept=False, prior=prior
    )


def _marker_prior(name: str, token: Token, formula: str):
    from ..priors import BayesAPrior, BayesBPrior, BayesCPrior, BayesRPrior, Beta, LassoPrior, RidgePrior

    factories = {
        "bayesa": BayesAPrior,
        "bayesb": BayesBPrior,
        "bayesc": BayesCPrior,
        "bayescpi": lambda: BayesCPrior(pi=Beta(5.5, 5.5)),
        "brr": RidgePrior,
        "bayeslasso": LassoPrior,
        "bayesr": BayesRPrior,
    }
    factory = factories.get(str(name).lower())
    if factory is None:
        raise FormulaError(
            f"Unknown marker prior {name!r}; one of {', '.join(MARKER_PRIOR_NAMES)}", formula, token.start, token.end
        )
    return factory()


def _special_term(
    token, function, call, parsed, data, pedigree, genotypes, priors, kernels, env, Animal, Kernel, Markers
):
    formula = parsed.text
    arity = {"animal": 1, "maternal": 2, "markers": 1, "kernel": 2}[function]
    allowed = {"animal": {"name"}, "maternal": {"name"}, "markers": {"prior", "name"}, "kernel": {"name"}}[function]
    if len(call.args) != arity:
        usage = {
            "animal": "animal(id)",
            "maternal": "maternal(id, dam)",
            "markers": "markers(id)",
            "kernel": "kernel(id, K)",
        }[function]
        raise FormulaError(
            f"{function}() takes {arity} argument{'s' if arity > 1 else ''}: {usage}", formula, token.start, token.end
        )
    options, option_tokens = {}, {}
    for keyword in call.keywords:
        if keyword.arg not in allowed:
            where = _locate(token, f"{keyword.arg}=") if keyword.arg else token
            raise FormulaError(
                f"{function}() takes no {keyword.arg}= (it takes {', '.join(sorted(allowed))})",
                formula,
                where.start,
                where.end,
            )
        value = keyword.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            where = _locate(token, f"{keyword.arg}=")
            raise FormulaError(
                f"{function}({keyword.arg}=...) must be a quoted string", formula, where.start, where.end
            )
        options[keyword.arg] = value.value
        option_tokens[keyword.arg] = _locate(token, ast.get_source_segment(token.text, value) or "")
    arg_tokens = [_locate(token, ast.get_source_segment(token.text, a) or "") for a in call.args]
    column = _name_of(call.args[0], arg_tokens[0], formula, f"The first argument of {function}()")
    _require(column, arg_tokens[0], data, formula, "id column")
    if function in ("animal", "maternal"):
        if pedigree is None:
            raise FormulaError(
                f"{function}() needs the pedigree: pass pedigree=bg.Pedigree(...)", formula, token.start, token.end
            )
        maternal = None
        if function == "maternal":
            maternal = _name_of(call.args[1], arg_tokens[1], formula, "The dam argument of maternal()")
            _require(maternal, arg_tokens[1], data, formula, "dam column")
        name = options.get("name", "animal")
        prior = priors.take(name, None, "sigma2_a" if name == "animal" else f"sigma2_{name}")
        return Animal(column, pedigree, prior=prior, name=name, maternal=maternal)
    if function == "markers":
        if genotypes is None:
            raise FormulaError(
                "markers() needs the genotypes: pass genotypes=bg.Genotypes(...)", formula, token.start, token.end
            )
        name = options.get("name", "markers")
        given = priors.take(name, None, None)
        if given is not None and "prior" in options:
            raise FormulaError(
                f"The prior of {name!r} is given twice: in the formula and in priors=", formula, token.start, token.end
            )
        if isinstance(given, str) or "prior" in options:
            text = options["prior"] if "prior" in options else given
            where = option_tokens["prior"] if "prior" in options else token
            given = _marker_prior(text, where, formula)
        return Markers(column, genotypes, prior=given, name=name)
    # kernel(id, K)
    matrix_node = call.args[1]
    if not isinstance(matrix_node, ast.Name):
        raise FormulaError(
            "The second argument of kernel() must be the name of a matrix (kernels={'K': ...})",
            formula,
            arg_tokens[1].start,
            arg_tokens[1].end,
        )
    lookup = dict(env or {})
    lookup.update(kernels or {})
    if matrix_node.id not in lookup:
        raise FormulaError(
            f"No matrix named {matrix_node.id!r}: pass kernels={{{matrix_node.id!r}: K}}",
            formula,
            arg_tokens[1].start,
            arg_tokens[1].end,
        )
    name = options.get("name", column)
    prior = priors.take(name, None, f"sigma2_{name}")
    return Kernel(column, lookup[matrix_node.id], prior=prior, name=name)


def _locate(token: Token, text: str) -> Token:
    """The sub-token ``text`` of ``token`` (the whole token when absent)."""
    at = token.text.find(text) if text else -1
    if at < 0:
        return token
    return Token(text, token.start + at, token.start + at + len(text))


class _Priors:
    """``priors=``: {term name or variance name: prior}; every key must be used."""

    def __init__(self, priors):
        if priors is None:
            priors = {}
        if not isinstance(priors, dict):
            raise TypeError(f"priors must be a dict {{term or variance name: prior}}, got {type(priors).__name__}.")
        self.given = dict(priors)
        self.used = set()

    def take(self, name, default, variance_name):
        keys = [k for k in (name, variance_name) if k is not None and k in self.given]
        if len(keys) > 1:
            raise ValueError(f"priors gives {name!r} twice: as {keys[0]!r} and {keys[1]!r}.")
        if not keys:
            return default
        self.used.add(keys[0])
        return self.given[keys[0]]

    def take_residual(self):
        if "sigma2_e" in self.given:
            self.used.add("sigma2_e")
            return self.given["sigma2_e"]
        return None

    def check_used(self, names) -> None:
        unused = [k for k in self.given if k not in self.used]
        if unused:
            raise ValueError(
                f"priors has {unused[0]!r}, which names no term of the formula (terms: "
                f"{', '.join(map(repr, names))}; or 'sigma2_e')."
            )


def caller_namespace(depth: int) -> dict:
    """The variables of the frame ``depth`` levels above the caller (locals over globals), where
    ``kernel(id, K)`` looks ``K`` up."""
    frame = sys._getframe(depth + 1)
    return {**frame.f_globals, **frame.f_locals}


def parse_formulas(formula) -> ParsedFormula:
    """One formula, or a list of one formula per trait with the same right-hand side (bayesgen fits
    the same terms to every trait): the list is ``cbind(a, b, ...) ~ <that side>``."""
    if not isinstance(formula, (list, tuple)):
        return parse(formula)
    if not formula:
        raise ValueError("formula is an empty list; give a formula, or one per trait.")
    parsed = [parse(f) for f in formula]
    first = parsed[0]
    for other in parsed[1:]:
        if _rhs(other) != _rhs(first):
            raise FormulaError(
                f"Every formula of the list needs the same terms as the first ({_rhs(first)!r}): "
                "bayesgen fits the same terms to every trait",
                other.text,
                other.rhs.start,
                other.rhs.end,
            )
    combined = ParsedFormula(
        first.text,
        [t for p in parsed for t in p.traits],
        [t for p in parsed for t in p.trait_tokens],
        first.rhs,
        [text for p in parsed for text in p.trait_texts],
        first.fixed,
        first.random,
        first.special,
        first.intercept,
        first.intercept_token,
        first.order,
    )
    seen = {}
    for name, token, text in zip(combined.traits, combined.trait_tokens, combined.trait_texts):
        if name in seen:
            raise FormulaError(f"The response {name!r} appears twice in the list", text, token.start, token.end)
        seen[name] = True
    return combined


def _rhs(parsed: ParsedFormula) -> str:
    return normalise(parsed).split(" ~ ", 1)[1]


#: Model options among ``fit``'s keyword arguments; the rest go to ``Model.sample``.
MODEL_OPTIONS = ("sigma2_e", "sampler", "log_likelihood", "posterior_predictive", "family", "bounds")


def model_arguments(formula, data, pedigree=None, genotypes=None, priors=None, kernels=None, env=None, **model_options):
    """The arguments of ``Model`` for a formula (``Model.from_formula``'s docstring; ``env`` holds the
    caller's variables), and the formula as the model prints it back."""
    parsed = parse_formulas(formula)
    rule = "default"
    if isinstance(priors, str):
        rule, priors = priors, None
    elif isinstance(priors, dict) and "rule" in priors:
        priors = dict(priors)
        rule = priors.pop("rule")
    terms, sigma2_e = build_terms(parsed, data, pedigree, genotypes, priors, kernels, env)
    if sigma2_e is not None:
        if model_options.get("sigma2_e") is not None:
            raise ValueError("The residual prior is given twice: priors['sigma2_e'] and sigma2_e=.")
        model_options["sigma2_e"] = sigma2_e
    y = parsed.traits[0] if len(parsed.traits) == 1 else list(parsed.traits)
    return {"data": data, "y": y, "terms": terms, "priors": rule, **model_options}, normalise(parsed)


def normalise(parsed: ParsedFormula) -> str:
    """The formula as the model prints it back (one space around each operator)."""
    lhs = parsed.traits[0] if len(parsed.traits) == 1 else f"cbind({', '.join(parsed.traits)})"
    parts = [] if parsed.intercept_token is None else ["1" if parsed.intercept else "0"]
    parts += [t.text for t in parsed.fixed]
    for kind, index in parsed.order:
        if kind == "special":
            parts.append(re.sub(r"\s+", " ", parsed.special[index][0].text))
            continue
        token, intercept, slopes, structure, group = parsed.random[index]
        left = " + ".join((["1"] if intercept else ["0"]) + [name for name, _ in slopes])
        parts.append(f"({left} {'||' if structure == 'diag' else '|'} {group.text})")
    return f"{lhs} ~ {' + '.join(parts) if parts else '1'}"
