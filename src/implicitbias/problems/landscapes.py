"""Toy loss landscapes with one sharp and one flat minimum of equal depth (1D and 2D).

The landscape (used by the ``flat-sharp`` experiment and the browser widget)::

    g(x)    = (x^2 - 1)^2 / (1 + x^2)  =  x^2 - 3 + 4 / (1 + x^2)
    w(x)    = A + B tanh(x / ell)
    A       = (k_sharp + k_flat) / 8
    B       = (k_flat - k_sharp) / (8 tanh(1 / ell))
    L(x)    = w(x) g(x)                                    (1D)
    L(x, y) = w(x) (g(x) + 2 y^2)                          (2D)

Defaults: ``k_sharp = 20``, ``k_flat = 2``, ``ell = 0.5``.

Closed forms. ``g(+-1) = g'(+-1) = 0`` and ``g''(+-1) = 4`` (the largest value of ``g''``
anywhere: ``g'' = 2 + 4 (6x^2 - 2) / (1 + x^2)^3``), so whatever ``w`` is, the minima are
exactly ``x = -1`` (sharp) and ``x = +1`` (flat), both with ``L = 0`` (equal depth), and
``L''(+-1) = 4 w(+-1)``. ``w(-1) = k_sharp / 4`` and ``w(+1) = k_flat / 4``, hence

    L''(-1) = k_sharp,   L''(+1) = k_flat                   (1D)
    Hessian(-1, 0) = k_sharp I,   Hessian(+1, 0) = k_flat I  (2D)

GD with step ``eta`` is linearly stable at a minimum iff ``eta < 2 / curvature``
(``|1 - eta k| < 1``). ``w > 0`` everywhere iff ``A > |B|``, i.e. the ratio
``k_sharp / k_flat`` is below ``(1 + t) / (1 - t)`` with ``t = tanh(1 / ell)`` (53.6 for
``ell = 0.5``). The single barrier between the two minima (the root of ``L'`` in
``(-1, 1)``; ``x_b = -0.1870`` and ``L(x_b) = 3.2253`` for the defaults) is found
numerically; a point belongs to the flat basin when ``x > x_b``. In 2D ``dL/dy = 4 w y``
vanishes only at ``y = 0``, so the stationary points are those of the 1D landscape.

The finite-sum version used for minibatch SGD has examples ``u_i`` (``n`` vectors with
exactly zero mean and unit variance per coordinate, times ``shift``) and per-example losses

    l_i(theta) = L(theta) - u_i . grad L(theta)

(the first-order expansion of ``L(theta - u_i)``). Their mean is exactly ``L`` (the
``u_i`` sum to zero), so the closed forms above hold for the finite sum, and a minibatch
gradient ``grad L - H(theta) mean_{i in batch} u_i`` carries noise ``H(theta) u``: its
scale is ``shift * curvature / sqrt(batch)``, larger in the sharp basin, as SGD's noise is
(Zhu et al. 2019, ICML: SGD's noise covariance aligns with the Hessian).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp
import numpy as np
from scipy import optimize

from implicitbias.errors import ConfigError

K_SHARP = 20.0
K_FLAT = 2.0
WIDTH = 0.5
X_SHARP = -1.0
X_FLAT = 1.0


def max_ratio(width: float) -> float:
    """Largest ``k_sharp / k_flat`` for which ``w > 0`` everywhere."""
    t = math.tanh(1.0 / width)
    return (1.0 + t) / (1.0 - t)


@dataclasses.dataclass(frozen=True)
class Landscape:
    """``L(theta, batch)`` for the engine; ``theta`` has shape ``(dim,)``.

    Frozen and compared by value, so the engine reuses one compiled program for equal
    landscapes. ``batch`` is ``None`` (the landscape itself) or ``(b, dim)`` shifts
    ``u_i``, and the mean of ``l_i(theta) = L(theta) - u_i . grad L(theta)`` is returned.
    """

    dim: int = 1
    k_sharp: float = K_SHARP
    k_flat: float = K_FLAT
    width: float = WIDTH

    def __post_init__(self) -> None:
        if self.dim not in (1, 2):
            raise ConfigError("dim", "1 or 2", self.dim)
        if not (self.k_sharp > self.k_flat > 0):
            raise ConfigError("k_sharp", f"a number > k_flat (= {self.k_flat}) > 0", self.k_sharp)
        if self.width <= 0:
            raise ConfigError("width", "a number > 0", self.width)
        limit = max_ratio(self.width)
        if self.k_sharp / self.k_flat >= limit:
            raise ConfigError(
                "k_sharp",
                f"k_sharp / k_flat < {limit:.4g} (for width = "
                f"{self.width:g}, so that L >= 0 has no other minimum)",
                self.k_sharp,
                hint=f"k_flat is {self.k_flat:g}.",
            )

    # ---- the function -----------------------------------------------------------------
    @property
    def coefficients(self) -> tuple[float, float]:
        """``(A, B)`` of ``w(x) = A + B tanh(x / width)``."""
        a = (self.k_sharp + self.k_flat) / 8.0
        b = (self.k_flat - self.k_sharp) / (8.0 * math.tanh(1.0 / self.width))
        return a, b

    def value(self, theta: Any) -> Any:
        """``L(theta)`` for ``theta`` of shape ``(..., dim)`` (jnp or np arrays)."""
        xp = np if isinstance(theta, np.ndarray) else jnp
        a, b = self.coefficients
        x = theta[..., 0]
        w = a + b * xp.tanh(x / self.width)
        g = x**2 - 3.0 + 4.0 / (1.0 + x**2)
        if self.dim == 2:
            g = g + 2.0 * theta[..., 1] ** 2
        return w * g

    def __call__(self, theta: Any, batch: Any = None) -> Any:
        if batch is None:
            return self.value(theta)
        return self.example_mean(theta, jnp.mean(batch, axis=0))

    def example_mean(self, theta: Any, u_mean: Any) -> Any:
        """``L(theta) - u_mean . grad L(theta)``: the mean of ``l_i`` over a minibatch whose
        shifts average to ``u_mean`` (jnp)."""
        import jax

        value, grad = jax.value_and_grad(self.value)(theta)
        return value - jnp.dot(u_mean, grad)

    # ---- closed forms -----------------------------------------------------------------
    def minima(self) -> dict[str, np.ndarray]:
        """``{"sharp": theta, "flat": theta}``: ``x = -1`` and ``x = +1`` (``y = 0``)."""
        pad = [0.0] * (self.dim - 1)
        return {"sharp": np.array([X_SHARP, *pad]), "flat": np.array([X_FLAT, *pad])}

    def hessians(self) -> dict[str, np.ndarray]:
        """Closed-form Hessians at the minima: ``k_sharp I`` and ``k_flat I``."""
        eye = np.eye(self.dim)
        return {"sharp": self.k_sharp * eye, "flat": self.k_flat * eye}

    def stability_thresholds(self) -> dict[str, float]:
        """``2 / lambda_max`` at each minimum: GD is stable there iff ``eta`` is below."""
        return {"sharp": 2.0 / self.k_sharp, "flat": 2.0 / self.k_flat}

    def derivative_1d(self, x: Any) -> Any:
        """``dL/dx`` at ``y = 0`` in closed form (NumPy), for the barrier search."""
        a, b = self.coefficients
        t = np.tanh(x / self.width)
        w, dw = a + b * t, b * (1.0 - t**2) / self.width
        g = x**2 - 3.0 + 4.0 / (1.0 + x**2)
        dg = 2.0 * x - 8.0 * x / (1.0 + x**2) ** 2
        return dw * g + w * dg

    def barrier(self) -> float:
        """The local maximum of ``L`` between the two minima (root of ``L'`` in (-1, 1))."""
        return float(
            optimize.brentq(self.derivative_1d, -1.0 + 1e-9, 1.0 - 1e-9, xtol=1e-14, rtol=1e-14)
        )

    def in_flat_basin(self, theta: np.ndarray) -> np.ndarray:
        """Boolean ``(...)``: ``x > x_barrier`` (GD with a small step from there ends at +1)."""
        return np.asarray(theta)[..., 0] > self.barrier()


def shifts(n: int, dim: int, scale: float, seed: int) -> np.ndarray:
    """``(n, dim)`` Gaussian shifts standardized to exactly zero mean and unit variance per
    coordinate, times ``scale`` (``n >= 2``)."""
    if n < 2:
        raise ConfigError("num_examples", "an integer >= 2", n)
    z = np.random.RandomState(seed).randn(n, dim)
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    return scale * z
