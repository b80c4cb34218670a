"""Figure helpers. Figures are ``matplotlib.figure.Figure`` objects: no pyplot state."""

from __future__ import annotations

from typing import Any


def figure(
    nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (6.0, 4.0), **kwargs: Any
) -> tuple[Any, Any]:
    """A new Figure and its axes (``squeeze`` as in pyplot.subplots), Agg-rendered."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def reference_line(ax: Any, y: float, label: str, **kwargs: Any) -> Any:
    """A dashed horizontal line for a theoretical level."""
    style = {"color": "0.3", "linestyle": "--", "linewidth": 1.0}
    style.update(kwargs)
    return ax.axhline(y, label=label, **style)
