"""Minibatch sampling inside the compiled loop, from explicit keys.

The example indices of step ``t`` depend only on the member's key and ``t``, so a run is
reproducible from its seed and can be resumed at any step.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
from jax import lax


@runtime_checkable
class Sampler(Protocol):
    """What the engine asks of a minibatch sampler.

    ``take`` runs inside the compiled step: it gets the member's key, the step index (a
    traced integer) and the number of examples, and returns the minibatch (a pytree like
    ``data``). A sampler is a value (a named tuple or frozen dataclass): the engine's
    compile cache and checkpoint fingerprints compare samplers by value.
    """

    batch_size: int

    def take(self, data: Any, key: jax.Array, step: jax.Array, n: int) -> Any: ...


class Minibatch(NamedTuple):
    """Minibatches of ``batch_size`` examples drawn from JAX keys.

    Attributes:
        batch_size: examples per step.
        replace: ``True`` draws every index independently and uniformly (with replacement);
            ``False`` is random reshuffling: each epoch is a fresh permutation of the
            examples, cut into ``n // batch_size`` minibatches (the ``n % batch_size``
            leftover examples of that permutation are skipped in that epoch).
    """

    batch_size: int
    replace: bool = True

    def indices(self, key: jax.Array, step: jax.Array, n: int) -> jax.Array:
        """The ``(batch_size,)`` example indices used at ``step``."""
        b = self.batch_size
        if self.replace:
            return jax.random.randint(jax.random.fold_in(key, step), (b,), 0, n)
        per_epoch = n // b
        epoch, position = step // per_epoch, step % per_epoch
        perm = jax.random.permutation(jax.random.fold_in(key, epoch), n)
        return lax.dynamic_slice(perm, (position * b,), (b,))

    def take(self, data: Any, key: jax.Array, step: jax.Array, n: int) -> Any:
        idx = self.indices(key, step, n)
        return jax.tree.map(lambda a: jnp.take(a, idx, axis=0), data)
