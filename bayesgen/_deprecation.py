"""Deprecated argument names: old spellings keep working for one release, with a warning.

The public vocabulary (CHANGELOG.md, "Changed"): ``column=`` names the id column, ``prior=`` a
term's variance (or covariance) prior, ``structure=`` a covariance structure string. Functions
that renamed an argument are wrapped by :func:`renamed_arguments`, which maps the old keyword
onto the new one and warns; positional calls are unaffected (the positions did not change).
"""

from __future__ import annotations

import functools
import warnings

#: The release that removes the deprecated names.
REMOVED_IN = "0.3.0"


def renamed_arguments(**old_to_new: str):
    """Decorator: accept each ``old=`` keyword as ``new=`` with a ``DeprecationWarning`` naming ``new``.

    Passing both spellings is a ``TypeError``. The wrapper keeps the function's signature
    (``inspect.signature`` follows ``__wrapped__``), so help() and the signature test see the new
    names only; ``__renamed_arguments__`` lists the old ones (for the tests).
    """

    def decorate(function):
        owner = function.__qualname__.replace(".__init__", "")

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{owner}() got both {new}= and its deprecated name {old}=; pass {new}= only.")
                    warnings.warn(
                        f"{owner}({old}=...) is deprecated and will be removed in bayesgen {REMOVED_IN}; "
                        f"use {new}= instead.",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return wrapper.__wrapped__(*args, **kwargs)  # (tests replace __wrapped__ to see the mapping)

        wrapper.__renamed_arguments__ = dict(old_to_new)
        return wrapper

    return decorate


def warn_renamed_variable(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that the InferenceData variable ``old`` is now ``new`` (derived quantities renamed)."""
    warnings.warn(
        f"The variable {old!r} is now {new!r} (a derived quantity, not a parameter); the old name will "
        f"stop working in bayesgen {REMOVED_IN}.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


#: Derived quantities renamed in 0.2.0 (old prefix -> new prefix): a marker term's variance and
#: correlations of W alpha over the phenotyped records were ``sigma2_g``/``rho_g`` (``sigma2_<name>``,
#: ``rho_<name>``), the prefixes of parameters; they are ``var_g``/``cor_g`` (``var_<name>``, ``cor_<name>``).
RENAMED_PREFIXES = {"sigma2_": "var_", "rho_": "cor_"}


def renamed_variables(var_names: list, available) -> list:
    """``var_names`` with each old name of a renamed derived quantity replaced by its new name
    (with a ``DeprecationWarning``), when only the new one is among ``available``."""
    out = []
    for name in var_names:
        new = next((new + name[len(old) :] for old, new in RENAMED_PREFIXES.items() if name.startswith(old)), None)
        if name not in available and new is not None and new in available:
            warn_renamed_variable(name, new, stacklevel=5)
            name = new
        out.append(name)
    return out
