"""Losses and parameterizations, one module per model family."""
