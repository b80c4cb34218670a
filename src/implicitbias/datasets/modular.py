"""Modular arithmetic tables: every pair ``(a, b)`` and its answer ``a o b mod p``.

These are the algorithmic data sets of the grokking literature (Power et al. 2022; Nanda et
al. 2023): a table of all ``p^2`` pairs (``p (p - 1)`` for division, which skips ``b = 0``),
split at random into a training part and a test part of the complementary pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from implicitbias.errors import ConfigError

# name -> (symbol, answer of int64 arrays a, b and the modulus p)
OPERATIONS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]]] = {
    "add": ("a + b", lambda a, b, p: (a + b) % p),
    "sub": ("a - b", lambda a, b, p: (a - b) % p),
    "mul": ("a * b", lambda a, b, p: (a * b) % p),
    # b^(p-2) is the inverse of b modulo a prime p (Fermat's little theorem).
    "div": ("a / b", lambda a, b, p: (a * _power_mod(b, p - 2, p)) % p),
    "quad": ("a^2 + a b", lambda a, b, p: (a * a + a * b) % p),
}


class ModularData(NamedTuple):
    """A split modular arithmetic table.

    Attributes:
        p: the modulus (a prime).
        operation: a key of :data:`OPERATIONS`.
        pairs: ``(N, 2)`` int32, every admissible ``(a, b)`` in row-major order.
        answers: ``(N,)`` int32, ``a o b mod p``.
        train: ``(N_train,)`` indices into ``pairs`` (sorted).
        test: ``(N - N_train,)`` indices into ``pairs``, the complement (sorted).
    """

    p: int
    operation: str
    pairs: np.ndarray
    answers: np.ndarray
    train: np.ndarray
    test: np.ndarray

    def part(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(pairs, answers)`` of the ``"train"`` or ``"test"`` part."""
        idx = self.train if which == "train" else self.test
        return self.pairs[idx], self.answers[idx]


def is_prime(n: int) -> bool:
    """Trial division (the moduli here are small)."""
    if n < 2:
        return False
    k = 2
    while k * k <= n:
        if n % k == 0:
            return False
        k += 1
    return True


def _power_mod(base: np.ndarray, exponent: int, p: int) -> np.ndarray:
    """Elementwise ``base^exponent mod p`` by repeated squaring (int64, p < 2^31)."""
    result = np.ones_like(base)
    square = base % p
    while exponent:
        if exponent & 1:
            result = (result * square) % p
        square = (square * square) % p
        exponent >>= 1
    return result


def table(operation: str, p: int) -> tuple[np.ndarray, np.ndarray]:
    """All admissible pairs and their answers, ``((N, 2), (N,))`` int32.

    Raises:
        ConfigError: unknown operation, or ``p`` not a prime (the division table and the
            Fourier picture of Nanda et al. need a field).
    """
    if operation not in OPERATIONS:
        raise ConfigError(
            "operation", "one of " + ", ".join(OPERATIONS), operation, choices=list(OPERATIONS)
        )
    if not is_prime(int(p)):
        raise ConfigError("p", "a prime (division and the Fourier measures need a field)", p)
    a, b = np.meshgrid(np.arange(p, dtype=np.int64), np.arange(p, dtype=np.int64), indexing="ij")
    a, b = a.ravel(), b.ravel()
    if operation == "div":
        keep = b != 0
        a, b = a[keep], b[keep]
    answers = OPERATIONS[operation][1](a, b, p)
    return np.stack([a, b], axis=1).astype(np.int32), answers.astype(np.int32)


def split(n: int, train_fraction: float, key: jax.Array) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random train part of ``round(train_fraction * n)`` items and the rest.

    The permutation comes from ``jax.random.permutation(key, n)``, so the split is a function
    of the key alone. Both parts must be non-empty.
    """
    n_train = int(round(train_fraction * n))
    if not 1 <= n_train <= n - 1:
        raise ConfigError(
            "train_fraction",
            f"a fraction leaving at least one train and one test example out of {n}",
            train_fraction,
        )
    perm = np.asarray(jax.random.permutation(key, n))
    return np.sort(perm[:n_train]), np.sort(perm[n_train:])


def modular_data(operation: str, p: int, train_fraction: float, key: jax.Array) -> ModularData:
    """The table of ``operation`` modulo ``p``, split with ``key``."""
    pairs, answers = table(operation, p)
    train, test = split(len(answers), train_fraction, key)
    return ModularData(int(p), operation, pairs, answers, train, test)
