"""A tanh MLP classifier trained with the square loss on one-hot targets.

The loss of a minibatch ``{"X", "Y"}`` is :math:`\\frac{1}{2B}\\sum_i \\lVert f(x_i) -
y_i\\rVert^2` (:func:`implicitbias.problems.mlp.mse_loss`, the setting of Cohen et al.
2021, ICLR); a minibatch padded to one width carries weights ``w_batch`` (``1/B`` on its
first ``B`` rows, ``0`` after) so that several batch sizes run in one compiled program.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from implicitbias.problems.mlp import mlp_apply, mse_loss


def square_loss(params: Any, batch: dict) -> jax.Array:
    """Half the mean squared error on one-hot targets (weighted when padded)."""
    if "w_batch" in batch:
        r = mlp_apply(params, batch["X"], "tanh") - batch["Y"]
        return 0.5 * jnp.sum(batch["w_batch"] * jnp.sum(r * r, axis=-1))
    return mse_loss(params, batch["X"], batch["Y"], "tanh")


def classification_metrics(params: Any, data: dict, aux: dict) -> dict[str, jax.Array]:
    """Train and test error (argmax of the outputs) and the test loss (``aux``: ``X_te``,
    ``Y_te``, ``labels_te``)."""
    err = jnp.mean(jnp.argmax(mlp_apply(params, data["X"]), -1) != jnp.argmax(data["Y"], -1))
    err_te = jnp.mean(jnp.argmax(mlp_apply(params, aux["X_te"]), -1) != aux["labels_te"])
    return {
        "train_error": err,
        "test_error": err_te,
        "test_loss": mse_loss(params, aux["X_te"], aux["Y_te"], "tanh"),
    }


class TrainLoss(NamedTuple):
    """``params -> L(params)`` on a fixed data set, for the curvature diagnostics.

    Equal (the same) arrays give equal loss objects, so a diagnostic compiles once per data
    set rather than once per call.
    """

    X: Any
    Y: Any

    def __call__(self, params: Any) -> jax.Array:
        return mse_loss(params, self.X, self.Y, "tanh")

    def __hash__(self) -> int:
        return hash((id(self.X), id(self.Y)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainLoss) and self.X is other.X and self.Y is other.Y
