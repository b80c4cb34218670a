r"""The lazy limit's reference, independent of the engine: kernel regression with the
empirical tangent kernel of ``f`` at the init.

Linearizing :math:`g_\alpha = \alpha(f(w) - f(w_0))` at :math:`w_0` gives
:math:`g(w) = \alpha J_0 (w - w_0)`; gradient descent on the square loss of that linear
model from :math:`w_0` stays in the row space of :math:`J_0` and converges to the
interpolator with the least :math:`\lVert w - w_0\rVert`, whose predictions on new inputs are

.. math::  \hat g(x) = K(x, X)\,K(X, X)^{-1}\,(y - g(w_0; X)),\qquad K = J_0 J_0^\top ,

the minimum-RKHS-norm interpolation of the residual targets with the tangent kernel (the
centered model has :math:`g(w_0) = 0`, so the residual targets are ``y``). ``J_0`` comes
from ``jax.jacobian`` of ``f`` over the flattened parameters; the solve is SciPy's
Cholesky solve in float64.
"""

from __future__ import annotations

import jax
import numpy as np
import scipy.linalg
from jax.flatten_util import ravel_pytree

from implicitbias.experiments.lazy_rich.model import network


def jacobian(params, X, activation: str = "tanh") -> np.ndarray:
    """``(n, p)`` Jacobian of ``f(w; X)`` in the flattened parameters (``ravel_pytree``
    order)."""
    flat, unravel = ravel_pytree(params)
    return np.asarray(jax.jacobian(lambda v: network(unravel(v), X, activation))(flat))


def kernel_regression(J_train: np.ndarray, J_test: np.ndarray, targets: np.ndarray) -> dict:
    """Min-RKHS-norm interpolation of ``targets`` with ``K = J J^T``: test predictions, the
    coefficients, the spectrum's ends, the RKHS norm and the train residual of the solve."""
    K = J_train @ J_train.T
    coef = scipy.linalg.solve(K, targets, assume_a="pos")
    eig = np.linalg.eigvalsh(K)
    return {
        "predictions": J_test @ (J_train.T @ coef),
        "coef": coef,
        "lambda_max": float(eig[-1]),
        "lambda_min": float(eig[0]),
        "rkhs_norm": float(np.sqrt(targets @ coef)),
        "train_residual": float(np.linalg.norm(K @ coef - targets) / np.linalg.norm(targets)),
        "weight_norm": float(np.linalg.norm(J_train.T @ coef)),
    }
