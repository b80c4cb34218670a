r"""The teacher task, the two-layer student, and the alpha-scaled centered loss.

Student (one example ``x`` in :math:`\mathbb R^d`, parameters ``w = (W, a)``, ``m`` units):

.. math::  f(w; x) = \frac{1}{\sqrt m} \sum_{i=1}^m a_i\,
           \sigma\!\Big(\frac{W_i \cdot x}{\sqrt d}\Big),

with :math:`W_{ij}, a_i \sim N(0, 1)` at init. The trained predictor is the centered, scaled
model :math:`g_\alpha(w; x) = \alpha\,(f(w; x) - f(w_0; x))` (zero at init), and the loss is

.. math::  L_\alpha(w) = \frac{1}{\alpha^2}\,\frac{1}{2n}\sum_{k=1}^n
           \big(g_\alpha(w; x_k) - y_k\big)^2 .

The factor :math:`1/\alpha^2` keeps the speed of training in function space independent of
alpha: under gradient flow :math:`\dot w = -\nabla L_\alpha(w)` one has
:math:`\dot g = -\frac1n J J^\top (g - y) + O(1/\alpha)`, ``J`` the Jacobian of ``f`` at the
current ``w`` (the lab's derivation; it is the scaling that makes every alpha comparable at
one step size). Teacher: :math:`y = \sum_{j} s_j(\mathrm{relu}(u_j\cdot x) - 1/\sqrt{2\pi})`,
unit ``u_j``, random signs ``s_j`` (centered, so predicting 0 gives relative test error 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}


def network(params, X, activation: str = "tanh"):
    """``f(w; X)``, ``(n,)``, for one member (``params = {"W": (m, d), "a": (m,)}``)."""
    W, a = params["W"], params["a"]
    z = X @ W.T / np.sqrt(W.shape[1])
    return ACTIVATIONS[activation](z) @ a / np.sqrt(a.shape[0])


def centered_loss(params, data, activation: str = "tanh"):
    r""":math:`\frac{1}{\alpha^2}\frac{1}{2n}\lVert\alpha(f(w;X) - f(w_0;X)) - y\rVert^2`
    (``data``: ``X``, ``y``, ``f0`` = f(w0; X), ``alpha``: one member's)."""
    g = data["alpha"] * (network(params, data["X"], activation) - data["f0"])
    return 0.5 * jnp.mean((g - data["y"]) ** 2) / data["alpha"] ** 2


def sweep_metrics(params, data, aux, activation: str = "tanh"):
    """Relative weight change, train residual, test error and distance to the kernel
    predictor of one member, at a logged step."""
    alpha = data["alpha"]
    g = alpha * (network(params, data["X"], activation) - data["f0"])
    g_test = alpha * (network(params, aux["X_test"], activation) - aux["f0_test"])
    delta = jax.tree.map(lambda p, q: jnp.sum((p - q) ** 2), params, aux["w0"])
    norm0 = jax.tree.map(lambda q: jnp.sum(q**2), aux["w0"])
    y_test, kernel = aux["y_test"], aux["kernel_test"]
    return {
        "relative_weight_change": jnp.sqrt(sum(jax.tree.leaves(delta)))
        / jnp.sqrt(sum(jax.tree.leaves(norm0))),
        "train_residual": jnp.linalg.norm(g - data["y"]) / jnp.linalg.norm(data["y"]),
        "test_error": jnp.mean((g_test - y_test) ** 2) / jnp.mean(y_test**2),
        "kernel_distance": jnp.linalg.norm(g_test - kernel) / jnp.linalg.norm(kernel),
    }


def draw(cfg, index: int) -> dict[str, np.ndarray]:
    """One draw (``index``) of teacher, train and test data, and the student's init."""
    rng = np.random.default_rng([cfg.seed, index])
    U = rng.standard_normal((cfg.teacher_width, cfg.d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    signs = np.where(rng.random(cfg.teacher_width) < 0.5, -1.0, 1.0)

    def teacher(X):
        return (np.maximum(X @ U.T, 0.0) - 1.0 / np.sqrt(2 * np.pi)) @ signs

    X = rng.standard_normal((cfg.n, cfg.d))
    X_test = rng.standard_normal((cfg.n_test, cfg.d))
    return {
        "X": X,
        "y": teacher(X),
        "X_test": X_test,
        "y_test": teacher(X_test),
        "W": rng.standard_normal((cfg.width, cfg.d)),
        "a": rng.standard_normal(cfg.width),
    }
