"""Run folders: create, write atomically, load back."""

from implicitbias.runs.results import Results
from implicitbias.runs.store import figure_files, load, new_run_dir, save

__all__ = ["Results", "figure_files", "load", "new_run_dir", "save"]
