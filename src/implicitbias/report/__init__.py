"""Reports: one self-contained HTML page of claim outcomes, run numbers and figures."""

from implicitbias.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
