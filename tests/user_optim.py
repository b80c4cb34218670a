"""A user's own optimizer factory, reached by import path (``user_optim:clipped_gd``).

It lives outside the package on purpose: the contract test runs every experiment with it,
as a user would with ``--set optimizer=mypkg.opt:make``.
"""

import optax


def clipped_gd(learning_rate, max_norm=100.0):
    """GD on gradients clipped to a global norm of ``max_norm``."""
    return optax.chain(optax.clip_by_global_norm(max_norm), optax.sgd(learning_rate))


def not_a_transformation(learning_rate):
    """A factory that returns something other than a GradientTransformation."""
    return {"learning_rate": learning_rate}
