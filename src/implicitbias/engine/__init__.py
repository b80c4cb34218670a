"""The compiled training engine (jit + scan between log points, vmap over a batch axis)."""

from implicitbias.engine.probe import Probe
from implicitbias.engine.sampling import Minibatch, Sampler
from implicitbias.engine.schedule import log_points
from implicitbias.engine.train import compilation_count, train
from implicitbias.engine.trajectory import Divergence, Trajectory

__all__ = [
    "Divergence",
    "Minibatch",
    "Probe",
    "Sampler",
    "Trajectory",
    "compilation_count",
    "log_points",
    "train",
]
