"""Diagonal linear networks: the init scale alpha moves GD from the l2 to the l1 interpolator.

Command::

    implicitbias run diagonal-net                  # 13 alphas x 2 models, ~20-40 s on 2 cores
    implicitbias run diagonal-net --preset smoke   # seconds
    implicitbias run diagonal-net --set optimizer=adam --set optimizer.b2=0.99

Setting: sparse regression with ``d >> n`` (Gaussian ``X``, a ``k``-sparse ``w*`` of unit
norm, ``y = X w*``), the mean squared loss :math:`\\frac{1}{2n}\\lVert Xw - y\\rVert^2`, and
two depth-2 diagonal parameterizations of the linear predictor:

* ``square``: :math:`w = u\\odot u - v\\odot v`, init :math:`u = v = \\alpha\\mathbf 1`;
* ``product``: :math:`w = u_+\\odot v_+ - u_-\\odot v_-`, init :math:`u_\\pm = c\\alpha`,
  :math:`v_\\pm = \\alpha/c` (``imbalance`` ``c``).

Full-batch GD, float64, every alpha of a log-spaced sweep in ONE batched (vmapped) run per
parameterization, each member with its own step :math:`\\eta = s/(4L(B + 2\\alpha^2))`
(``square``; twice that for ``product``), ``L`` the top eigenvalue of :math:`X^\\top X/n`
and ``B`` the largest entry of the l1 and l2 interpolators: a bound on the curvature of the
loss in ``(u, v)`` near the solutions.

Theory (Woodworth et al. 2020, COLT, Theorem 1): gradient flow on ``square`` that reaches an
interpolator reaches :math:`\\arg\\min Q_\\alpha(w)` s.t. :math:`Xw = y`, with
:math:`Q_\\alpha(w) = \\alpha^2\\sum_i q(w_i/\\alpha^2)`,
:math:`q(z) = 2 - \\sqrt{4 + z^2} + z\\operatorname{arcsinh}(z/2)`; this tends to the
min-l2 interpolator as :math:`\\alpha\\to\\infty` (kernel regime) and to the min-l1
interpolator (basis pursuit) as :math:`\\alpha\\to 0` (rich regime). The ``product`` form
reaches the minimizer of :math:`Q_{\\alpha_{eff}}`,
:math:`\\alpha_{eff} = \\alpha\\sqrt{(c^2+c^{-2})/2}` (derived in
:mod:`implicitbias.theory.diagonal`). The references are float64 NumPy/cvxpy, independent
of the engine.

GD with a finite step is not gradient flow: each step multiplies :math:`u_iv_i` by
:math:`1 - 4\\eta^2 g_i^2`, which shrinks the effective init scale coordinate by coordinate
(Even et al. 2023, NeurIPS, study this effect). The ``step_study`` part measures the gap to
the :math:`Q_\\alpha` minimizer at one alpha for several step sizes (same ``eta * steps``).

Expected outcome (``default``, measured): GD matches the min-:math:`Q_\\alpha` interpolator
for every alpha to 4.1e-3 (``square``) and 3.9e-3 (``product``), the largest gaps in the
transition, where they are the finite step (first order: 4.1e-3, 2.0e-3, 1.0e-3 at
eta, eta/2, eta/4); the distance to the l1 interpolator falls at every alpha step, to 6.5e-3
at alpha = 1e-4; the distance to the l2 interpolator is 1.6e-8 at alpha = 10; the test error
:math:`\\lVert w - w^*\\rVert^2` goes from the l2 level (0.79) to 4e-5, towards the l1 level
(~0: basis pursuit recovers ``w*``). See docs/experiments/diagonal-net.md.

Any optimizer (``--set optimizer=...``, default ``gd``) runs the sweeps and the step-size
study, with the same per-member steps (``lr_scale`` scales them); the distances to the
Q_alpha, l1 and l2 interpolators are reported for it. The Q_alpha characterization and its
limits are theorems about gradient flow, which GD with small steps follows: they apply to
``gd`` (and ``sgd``, the same update on the full batch), and are *not applicable* to other
optimizers. The step-size claim is about plain constant-step GD.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np

from implicitbias import engine
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, optimizer_param, param
from implicitbias.datasets.sparse import sparse_regression
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.diagonal import (
    MODELS,
    diagonal_loss,
    diagonal_metrics,
    initial_params,
    predictor,
)
from implicitbias.runs.results import Results
from implicitbias.theory import diagonal as theory

NAME = "diagonal-net"
WOODWORTH = "Woodworth et al. 2020 (COLT), Theorem 1"
GRADIENT_DESCENT = ("gd", "sgd")
"""Registry names of gradient descent (full batch here: ``sgd`` is the same update)."""


@dataclasses.dataclass(frozen=True)
class DiagonalNetConfig(Config):
    """Sparse regression with a diagonal linear network: which interpolator does the
    optimizer pick?"""

    n: int = param(40, "number of examples", low=1)
    d: int = param(200, "number of features (d > n)", low=2)
    k: int = param(5, "nonzeros of the planted w*", low=1)
    noise: float = param(0.0, "standard deviation of the label noise", low=0)
    signal: Literal["sign", "gaussian"] = param(
        "sign", "nonzero values of w*: random signs or Gaussian (then ||w*|| = 1)"
    )
    alpha_min: float = param(1e-4, "smallest init scale", low=0, low_open=True)
    alpha_max: float = param(10.0, "largest init scale", low=0, low_open=True)
    num_alphas: int = param(13, "init scales, log-spaced, one batched run", low=2)
    models: Literal["both", "square", "product"] = param(
        "both", "parameterizations: square (u*u - v*v), product (u+ v+ - u- v-), or both"
    )
    imbalance: float = param(
        2.0, "product form: u(0) = c alpha, v(0) = alpha / c", low=0, low_open=True
    )
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the alpha sweeps and of the step-size study (per-member steps)"
    )
    lr_scale: float = param(
        0.5, "step = lr_scale / (4 L (B + 2 alpha^2)) (see the doc)", low=0, low_open=True
    )
    steps: int = param(200_000, "optimizer steps", low=1)
    num_logs: int = param(100, "logged steps (log-spaced)", low=10)
    step_study: bool = param(True, "also run one alpha at several step sizes")
    step_study_alpha: float = param(0.03, "the alpha of the step-size study", low=0, low_open=True)
    step_study_steps: int = param(
        50_000,
        "step-size study: optimizer steps at the full step (the "
        "run lasts step_study_steps / min fraction)",
        low=1,
    )
    step_fractions: tuple[float, ...] = param(
        (1.0, 0.5, 0.25),
        "step-size study: fractions of the step (steps scaled by 1/fraction)",
        low=0,
        high=1,
    )

    PRESETS = {
        "smoke": dict(
            n=12,
            d=40,
            k=2,
            num_alphas=4,
            alpha_min=1e-3,
            alpha_max=3.0,
            steps=30_000,
            num_logs=20,
            step_study_alpha=0.1,
            step_study_steps=10_000,
            step_fractions=(1.0, 0.5),
        ),
        "noisy": dict(noise=0.3, step_study=False),
        "long": dict(
            steps=1_000_000, alpha_min=1e-5, num_alphas=16, step_fractions=(1.0, 0.5, 0.25, 0.125)
        ),
        "default": {},
    }

    def validate(self) -> None:
        if self.n >= self.d:
            raise ConfigError(
                "n",
                f"an integer < d (= {self.d}), so that infinitely many interpolators exist",
                self.n,
            )
        if self.k > self.d:
            raise ConfigError("k", f"an integer in [1, d = {self.d}]", self.k)
        if self.alpha_min >= self.alpha_max:
            raise ConfigError(
                "alpha_min", f"a number < alpha_max (= {self.alpha_max})", self.alpha_min
            )
        if self.step_study and (not self.step_fractions or 1.0 not in self.step_fractions):
            raise ConfigError(
                "step_fractions", "fractions in (0, 1] that include 1", self.step_fractions
            )

    def model_list(self) -> tuple[str, ...]:
        return MODELS if self.models == "both" else (self.models,)


# ---------------------------------------------------------------------------------------
# step sizes
# ---------------------------------------------------------------------------------------
def learning_rates(
    model: str, alphas: np.ndarray, L: float, B: float, scale: float, imbalance: float = 1.0
) -> np.ndarray:
    """Per-member steps. The loss Hessian in the factors is ``J^T (X^T X/n) J`` plus a
    residual term, with ``J J^T = diag(4(u^2 + v^2))`` for ``square`` (``= 4 sqrt(w^2 +
    4 alpha^4)`` under gradient flow) and ``diag(u+^2 + v+^2 + u-^2 + v-^2)`` for
    ``product`` (half as large at the same effective alpha)."""
    if model == "square":
        return scale / (4 * L * (B + 2 * np.asarray(alphas) ** 2))
    a_eff = theory.effective_alpha(alphas, imbalance)
    return scale / (2 * L * (B + 2 * a_eff**2))


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def _references(cfg: DiagonalNetConfig, X, y, alphas, results: Results) -> dict[str, Any]:
    w_l2 = theory.min_l2_interpolator(X, y)
    w_l1 = theory.basis_pursuit(X, y)
    refs = {"l1": w_l1, "l2": w_l2}
    w_star = results.arrays["w_star"]
    kkt = []
    for model in cfg.model_list():
        scale = alphas if model == "square" else theory.effective_alpha(alphas, cfg.imbalance)
        sols = theory.q_alpha_path(X, y, scale)
        refs[model] = np.array([s.w for s in sols])
        kkt += [(s.feasibility, s.stationarity) for s in sols]
        results.arrays[f"q_{model}"] = refs[model]
        results.arrays[f"alpha_eff_{model}"] = np.asarray(scale)
    kkt = np.array(kkt)
    results.arrays.update(w_l1=w_l1, w_l2=w_l2)
    feas_l1 = float(np.linalg.norm(X @ w_l1 - y) / np.linalg.norm(y))
    results.scalars["references"] = {
        "l1_test_error": _test(w_l1, w_star),
        "l2_test_error": _test(w_l2, w_star),
        "l1_norm_l1": float(np.abs(w_l1).sum()),
        "l1_norm_l2": float(np.abs(w_l2).sum()),
        "l1_feasibility": feas_l1,
        "q_max_feasibility": float(kkt[:, 0].max()),
        "q_max_stationarity": float(kkt[:, 1].max()),
    }
    return refs


def _test(w: np.ndarray, w_star: np.ndarray) -> float:
    return float(np.sum((w - w_star) ** 2) / np.sum(w_star**2))


def _train(cfg, X, y, inits, lrs, aux, steps, label):
    return engine.train(
        diagonal_loss,
        inits,
        cfg.optimizer,
        steps=steps,
        data=(X, y),
        hparams={"learning_rate": lrs},
        metrics=diagonal_metrics,
        aux=aux,
        aux_axis={"q": 0, "l1": None, "l2": None, "w_star": None},
        num_logs=cfg.num_logs,
        spacing="log",
        description=f"{NAME}: {cfg.optimizer.label}, {label}",
        divergence_hint="lower lr_scale (the step bound assumes |w_i| <= B along the path).",
    )


def _sweep(model, cfg, X, y, alphas, refs, L, B, results: Results) -> None:
    inits = initial_params(model, alphas, cfg.d, cfg.imbalance)
    lrs = learning_rates(model, alphas, L, B, cfg.lr_scale, cfg.imbalance)
    aux = {"q": refs[model], "l1": refs["l1"], "l2": refs["l2"], "w_star": results.arrays["w_star"]}
    traj = _train(cfg, X, y, inits, lrs, aux, cfg.steps, model)
    w = np.asarray(predictor(jnp.asarray(np.swapaxes(traj.params, 0, 1))))
    results.arrays[f"w_{model}"] = w
    results.arrays[f"lr_{model}"] = lrs
    if not results.metrics:  # the first model's metrics; the others under arrays
        results.scalars["problem"]["metrics_model"] = model
        results.steps = traj.steps
        results.metrics.update(traj.metrics)
    else:
        for name, values in traj.metrics.items():
            results.arrays[f"{model}_{name}"] = values
    final = {k: v[-1] for k, v in traj.metrics.items()}
    if model == "square" and _gd(cfg):
        _step_corrected(X, y, np.asarray(traj.params), alphas, results)
    dist_l1 = theory.relative_distance(w, refs["l1"])
    # Positive where the distance to l1 grows as alpha decreases (alphas are increasing).
    rises = (dist_l1[:-1] - dist_l1[1:]) / dist_l1.max()
    results.scalars[model] = {
        "dist_q": theory.relative_distance(w, refs[model]).tolist(),
        "dist_l1": dist_l1.tolist(),
        "dist_l2": theory.relative_distance(w, refs["l2"]).tolist(),
        "test_error": [_test(wi, results.arrays["w_star"]) for wi in w],
        "residual": final["residual"].tolist(),
        "max_dist_q": float(theory.relative_distance(w, refs[model]).max()),
        "max_residual": float(final["residual"].max()),
        "dist_l1_at_smallest_alpha": float(dist_l1[0]),
        "dist_l2_at_largest_alpha": float(theory.relative_distance(w[-1], refs["l2"])),
        "largest_rise_of_dist_l1_as_alpha_falls": float(rises.max()),
        "learning_rates": lrs.tolist(),
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
    }


def _step_corrected(X, y, params, alphas, results: Results) -> None:
    """The finite-step reference: the minimizer of sum_i a_i^2 q(w_i / a_i^2) with the
    per-coordinate scales a_i = sqrt(u_i v_i) that GD ended with (gradient flow keeps
    u_i v_i = alpha^2; each GD step multiplies it by 1 - 4 eta^2 g_i^2)."""
    scales = theory.gd_effective_alpha(params[:, 0], params[:, 1])  # (B, d)
    refs = np.array([theory.q_alpha_minimizer(X, y, a).w for a in scales])
    w = params[:, 0] ** 2 - params[:, 1] ** 2
    results.arrays["q_square_step_corrected"] = refs
    shrink = scales / np.asarray(alphas)[:, None]
    results.scalars["square_step_corrected"] = {
        "dist_q": theory.relative_distance(w, refs).tolist(),
        "max_dist_q": float(theory.relative_distance(w, refs).max()),
        "min_scale_ratio": shrink.min(axis=1).tolist(),
        "median_scale_ratio": np.median(shrink, axis=1).tolist(),
    }


def _step_study(cfg, X, y, refs, L, B, results: Results) -> None:
    """``square`` at one alpha with the steps ``fraction * eta``, for ``steps / fraction``
    steps: the same 'time' ``eta * steps``; one batched run."""
    fractions = np.array(sorted(cfg.step_fractions, reverse=True))
    alpha = cfg.step_study_alpha
    ref = theory.q_alpha_minimizer(X, y, alpha).w
    base = learning_rates("square", np.array([alpha]), L, B, cfg.lr_scale)[0]
    lrs = base * fractions
    # One batched run shares one step count: steps / (smallest fraction). The members with
    # larger steps run on past their equal-time point; their residuals are reported.
    steps = int(round(cfg.step_study_steps / fractions.min()))
    inits = initial_params("square", np.full(len(fractions), alpha), cfg.d, 1.0)
    aux = {
        "q": np.tile(ref, (len(fractions), 1)),
        "l1": refs["l1"],
        "l2": refs["l2"],
        "w_star": results.arrays["w_star"],
    }
    traj = _train(cfg, X, y, inits, lrs, aux, steps, "step-size study")
    w = np.asarray(predictor(jnp.asarray(np.swapaxes(traj.params, 0, 1))))
    gaps = theory.relative_distance(w, ref)
    results.arrays.update(
        step_study_steps=traj.steps,
        step_study_dist_q=traj.metrics["dist_q"],
        step_study_residual=traj.metrics["residual"],
        step_study_lrs=lrs,
    )
    results.scalars["step_study"] = {
        "alpha": alpha,
        "fractions": fractions.tolist(),
        "learning_rates": lrs.tolist(),
        "steps": steps,
        "dist_q": gaps.tolist(),
        "residual": traj.metrics["residual"][-1].tolist(),
        "gap_ratio_largest_to_smallest_step": float(gaps[0] / gaps[-1]),
        "step_ratio": float(fractions[0] / fractions[-1]),
        # gap ~ eta^p: p from the largest and smallest steps (1: first order in eta)
        "order_in_step": float(np.log(gaps[0] / gaps[-1]) / np.log(fractions[0] / fractions[-1])),
    }


def run(cfg: DiagonalNetConfig) -> Results:
    """References, one batched run per parameterization, the step-size study."""
    results = Results()
    X, y, w_star = sparse_regression(
        cfg.n, cfg.d, cfg.k, noise=cfg.noise, signal=cfg.signal, seed=cfg.seed
    )
    alphas = np.geomspace(cfg.alpha_min, cfg.alpha_max, cfg.num_alphas)
    results.arrays.update(X=X, y=y, w_star=w_star, alphas=alphas)
    refs = _references(cfg, X, y, alphas, results)
    L = float(np.linalg.norm(X, 2) ** 2 / cfg.n)  # top eigenvalue of X^T X / n
    B = float(max(np.abs(refs["l1"]).max(), np.abs(refs["l2"]).max()))
    results.scalars["problem"] = {
        "n": cfg.n,
        "d": cfg.d,
        "k": cfg.k,
        "L": L,
        "B": B,
        "alphas": alphas.tolist(),
        "steps": cfg.steps,
        "optimizer": cfg.optimizer.label,
    }
    for model in cfg.model_list():
        _sweep(model, cfg, X, y, alphas, refs, L, B, results)
    if cfg.step_study:
        _step_study(cfg, X, y, refs, L, B, results)
    return results


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
def _gd(cfg: DiagonalNetConfig) -> bool:
    """Gradient descent (any step schedule): the Q_alpha theory's algorithm at small steps."""
    return cfg.optimizer.name in GRADIENT_DESCENT and cfg.optimizer.fn is None


def _plain_gd(cfg: DiagonalNetConfig) -> bool:
    return _gd(cfg) and not cfg.optimizer.hparams


def _square(cfg: DiagonalNetConfig) -> bool:
    return _gd(cfg) and "square" in cfg.model_list()


def _product(cfg: DiagonalNetConfig) -> bool:
    return _gd(cfg) and "product" in cfg.model_list()


def _step_size(cfg: DiagonalNetConfig) -> bool:
    return _plain_gd(cfg) and cfg.step_study


_FLOW = "the theorem is for gradient flow; GD with small steps tracks it"
_GD = "the optimizer is gd (" + _FLOW + ")"
_DEFAULT = {"quick": "default", "full": "long"}
STEP_SOURCE = (
    "derived in implicitbias.theory.diagonal.gd_effective_alpha; cf. Even et al. 2023 (NeurIPS)"
)

KEYS = (
    "problem.steps",
    "problem.metrics_model",
    "problem.optimizer",
    "references.l1_test_error",
    "references.l2_test_error",
    "references.l1_norm_l1",
    "references.l1_norm_l2",
    "references.l1_feasibility",
    "square.max_dist_q",
    "square.dist_q",
    "square.dist_l1",
    "square.dist_l2",
    "square.test_error",
    "square.residual",
    "square.largest_rise_of_dist_l1_as_alpha_falls",
    "square.dist_l1_at_smallest_alpha",
    "square.dist_l2_at_largest_alpha",
    "product.max_dist_q",
    "product.dist_q",
    "product.dist_l1",
    "product.dist_l2",
    "product.test_error",
    "product.residual",
    "square_step_corrected.dist_q",
    "step_study.order_in_step",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/q-alpha",
        statement="GD on w = u*u - v*v from u = v = alpha reaches the minimizer of Q_alpha "
        "among interpolators, for every alpha of the sweep.",
        source=WOODWORTH,
        quantity="max over alphas of ||w_GD - w_Qalpha|| / ||w_Qalpha||",
        measure="square.max_dist_q",
        criterion=Criterion("<=", 0.01),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
    ),
    Claim(
        id=f"{NAME}/q-alpha-product",
        statement="GD on w = u+ v+ - u- v- (u = c alpha, v = alpha/c) reaches the "
        "minimizer of Q_alpha_eff, alpha_eff = alpha sqrt((c^2+c^-2)/2).",
        source="derived in implicitbias.theory.diagonal, after " + WOODWORTH,
        quantity="max over alphas of ||w_GD - w_Qalpha_eff|| / ||w_Qalpha_eff||",
        measure="product.max_dist_q",
        criterion=Criterion("<=", 0.01),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_product,
        requires=_GD + " and the product model is run",
    ),
    Claim(
        id=f"{NAME}/l1-falls",
        statement="The distance of GD's solution to the min-l1 interpolator falls as alpha -> 0.",
        source=WOODWORTH,
        quantity="largest increase of ||w_GD - w_l1|| / ||w_l1|| from one alpha to the next "
        "smaller one, in units of its largest value (<= 0: it never rises)",
        measure="square.largest_rise_of_dist_l1_as_alpha_falls",
        criterion=Criterion("<=", 0.0),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
    ),
    Claim(
        id=f"{NAME}/l1-limit",
        statement="For small alpha GD's solution is close to the min-l1 interpolator.",
        source=WOODWORTH,
        quantity="||w_GD - w_l1|| / ||w_l1|| at the smallest alpha",
        measure="square.dist_l1_at_smallest_alpha",
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
    ),
    Claim(
        id=f"{NAME}/l2-limit",
        statement="For large alpha GD's solution is the min-l2 interpolator.",
        source=WOODWORTH,
        quantity="||w_GD - w_l2|| / ||w_l2|| at the largest alpha",
        measure="square.dist_l2_at_largest_alpha",
        criterion=Criterion("<=", 0.01),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
    ),
    Claim(
        id=f"{NAME}/step-size",
        statement="GD's gap to the Q_alpha minimizer is a finite-step effect, first "
        "order in the step eta (each step scales u_i v_i by 1 - 4 eta^2 g_i^2).",
        source=STEP_SOURCE,
        quantity="|p - 1|, p the exponent of gap ~ eta^p between the largest and smallest step "
        "of the step-size study (every step size runs steps / min(fraction) steps, so the "
        "larger steps run for a longer time eta * steps)",
        measure=lambda r: abs(r.get("step_study.order_in_step") - 1.0),
        criterion=Criterion("<=", 0.1),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_step_size,
        requires="the optimizer is plain constant-step gd and step_study is on",
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="diagonal linear nets: init scale alpha moves GD from the l2 to the l1 "
        "interpolator, through the Q_alpha minimizers",
        config_cls=DiagonalNetConfig,
        run=run,
        plots="implicitbias.experiments.diagonal_net_plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)
