"""The Gibbs reference of noisy GD: the flat-basin mass of ``exp(-L / T)``.

For small ``eta``, GD plus Gaussian gradient noise of scale ``sigma`` is a discretized
Langevin dynamics at temperature ``T = eta sigma^2 / 2`` whose stationary law is
``exp(-L / T)`` (Welling & Teh 2011, ICML; Mandt, Hoffman & Blei 2017, JMLR).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

from implicitbias.problems.landscapes import Landscape


def gibbs_flat_fraction(landscape: Landscape, temperature: float) -> float:
    """Flat-basin mass of ``exp(-L / T)`` (in 2D the ``y`` integral is done in closed form:
    ``int exp(-2 w y^2 / T) dy = sqrt(pi T / (2 w))``)."""
    a, b = landscape.coefficients
    xb = landscape.barrier()

    def density(x):
        t = np.tanh(x / landscape.width)
        w = a + b * t
        g = x**2 - 3.0 + 4.0 / (1.0 + x**2)
        out = np.exp(-w * g / temperature)
        return out / np.sqrt(w) if landscape.dim == 2 else out

    lo = integrate.quad(density, -np.inf, xb, epsabs=0, epsrel=1e-10, limit=200)[0]
    hi = integrate.quad(density, xb, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0]
    return float(hi / (lo + hi))
