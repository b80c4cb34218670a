"""The THEORY table: what the theory says of each optimizer (the norm of its steps, whether
they are normalized, the max margin it converges to and where that is proved), and the
results key of each method."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

from implicitbias.optim.spec import OptimizerSpec

GUNASEKAR = "Gunasekar et al. 2018 (ICML)"
SOUDRY = "Soudry et al. 2018 (JMLR); Gunasekar et al. 2018 (ICML)"
NACSON = "Nacson et al. 2019 (AISTATS); Gunasekar et al. 2018 (ICML)"
ZHANG = "Zhang et al. 2024 (Adam -> l_inf max margin)"
WANG = (
    "Wang et al. 2022 (NeurIPS), 'Does Momentum Change the Implicit Regularization on "
    "Separable Data?': GD with momentum -> l2 max margin"
)
SIGNUM = (
    "Gronich & Vardi 2026 (arXiv:2602.16340): momentum sign descent (Signum) -> KKT points "
    "of the l_inf margin with a decaying step; Fan, Schmidt & Thrampoulidis 2025 "
    "(arXiv:2502.04664): sign GD -> l_inf (max-norm) margin. Lion's step is the sign of an "
    "interpolation of momentum and gradient, a variant the lab's claim extends these to"
)


@dataclasses.dataclass(frozen=True)
class Theory:
    """What the step rule and the claims need to know of one optimizer.

    Attributes:
        role: the results key and claim name of the method (``methods.<role>``).
        label: its name in the claims' statements.
        geometry: the norm of its steps; its dual norm sets :math:`B_*`.
        normalized: unit steps in that norm (else Gunasekar's :math:`\\lVert g\\rVert_*`
            steps).
        reference: the max margin the theory predicts.
        source: where the theory is proved.
        assumes: hyperparameter values the theory needs (``(("eps", 0.0),)`` for Adam);
            with other values the method runs but its claim is not applicable.
        traced: hyperparameters handed to the engine per batch member rather than built
            into the program (Adam's betas and ``eps``: one compiled program for every
            value, and the same floating-point program as the earlier releases).
    """

    role: str
    label: str
    geometry: str
    normalized: bool
    reference: str
    source: str
    assumes: tuple[tuple[str, Any], ...] = ()
    traced: tuple[str, ...] = ()


_GD = Theory("gd", "GD", "l2", False, "l2", SOUDRY)
_NGD = Theory("normalized_gd", "normalized GD", "l2", True, "l2", NACSON)
_CD = Theory("coordinate_descent", "coordinate descent", "l1", False, "l1", GUNASEKAR)
_NCD = Theory("normalized_cd", "normalized coord. descent", "l1", True, "l1", NACSON)
_LINF = Theory("steepest_linf", "l_inf steepest descent", "linf", False, "linf", GUNASEKAR)
_SIGN = Theory("sign_gd", "sign GD", "linf", True, "linf", NACSON)

THEORY: dict[str, Theory] = {
    "gd": _GD,
    "sgd": _GD,
    "steepest_l2": _GD,
    "normalized_gd": _NGD,
    "steepest_l1": _CD,
    "coordinate_descent": _CD,
    "steepest_linf": _LINF,
    "sign_gd": _SIGN,
    "adam": Theory(
        "adam", "Adam", "linf", True, "linf", ZHANG, (("eps", 0.0),), ("b1", "b2", "eps")
    ),
    "heavy_ball": Theory("heavy_ball", "heavy ball", "l2", False, "l2", WANG),
    "nesterov": Theory("nesterov", "Nesterov momentum", "l2", False, "l2", WANG),
    "lion": Theory("lion", "Lion", "linf", True, "linf", SIGNUM, (("weight_decay", 0.0),)),
}
"""Registry base name -> :class:`Theory`. The steepest-descent factories with
``normalized=True`` map to :data:`NORMALIZED` of their norm. Not here: ``muon`` (on the
vector parameter of this model optax's Muon runs NAdam; the spectral-norm result of Fan et
al. 2025 is for matrix parameters), ``adafactor``, ``adamw`` (weight decay), the noisy and
grokfast variants, and any import path whose attribute is not one of these names."""

NORMALIZED = {"l2": _NGD, "l1": _NCD, "linf": _SIGN}
"""The normalized sibling of each steepest descent (``steepest_l1(normalized=True)``)."""


def hyperparameter(spec: OptimizerSpec, key: str) -> Any:
    """The value the optimizer runs with: the spec's, else its factory's default."""
    if key in spec.kwargs:
        return spec.kwargs[key]
    default = (spec.factory_defaults() or {}).get(key, inspect.Parameter.empty)
    return None if default is inspect.Parameter.empty else default


def theory_of(spec: OptimizerSpec) -> Theory | None:
    """The :data:`THEORY` entry of ``spec`` (by ``spec.base_name``), or ``None``."""
    entry = THEORY.get(spec.base_name)
    if entry is not None and spec.base_name.startswith(("steepest_", "coordinate_")):
        if hyperparameter(spec, "normalized"):
            return NORMALIZED[entry.geometry]
    return entry


def theory_holds(spec: OptimizerSpec) -> bool:
    """Whether ``spec`` has a theory reference and the hyperparameters it assumes."""
    entry = theory_of(spec)
    return entry is not None and all(hyperparameter(spec, k) == v for k, v in entry.assumes)


def method_keys(specs: tuple[OptimizerSpec, ...]) -> dict[str, OptimizerSpec]:
    """Results key -> spec: the :class:`Theory` role of its first method of each role,
    else the label with every run of other characters made ``_`` (``user_optim_f``)."""
    out: dict[str, OptimizerSpec] = {}
    for spec in specs:
        entry = theory_of(spec)
        key = entry.role if entry and entry.role not in out else ""
        key = key or re.sub(r"[^0-9A-Za-z]+", "_", spec.label).strip("_")
        base, i = key or "method", 2
        while key in out or not key:
            key, i = f"{base}_{i}", i + 1
        out[key] = spec
    return out
