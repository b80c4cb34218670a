"""What a training run returns."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Divergence:
    """Where a run first produced NaN or inf."""

    step: int
    member: int
    quantity: str
    value: float
    hint: str = ""

    def message(self) -> str:
        text = (
            f"training diverged: {self.quantity} = {self.value} at step {self.step} "
            f"(batch member {self.member})."
        )
        if self.hint:
            text += f" Hint: {self.hint}"
        return text + " Everything logged before that step is kept."


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Metrics at the logged steps of a batch of runs.

    Attributes:
        steps: ``(L,)`` step index of each snapshot (0 is the initialization).
        metrics: name -> ``(L, B)`` array, one column per batch member.
        params: final parameters (at ``steps[-1]``), a pytree with leading axis ``B``.
        snapshots: parameters at every logged step, leading axes ``(L, B)``, or ``None``.
        divergence: where the run stopped on NaN/inf, or ``None``.
        compile_seconds: time spent compiling (0 when a cached program was reused).
        run_seconds: time spent running the compiled program.
        block_size: members per block when the batch ran block by block, 0 for one vmap.
    """

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    params: Any
    snapshots: Any = None
    divergence: Divergence | None = None
    compile_seconds: float = 0.0
    run_seconds: float = 0.0
    block_size: int = 0

    @property
    def num_members(self) -> int:
        return int(next(iter(self.metrics.values())).shape[1])

    def final(self, name: str) -> np.ndarray:
        """``(B,)`` last logged value of metric ``name``."""
        return self.metrics[name][-1]
