"""JUnit XML of ``verify`` outcomes, for CI systems that read test reports.

One ``testcase`` per claim: an UNEXPECTED verdict is a ``failure``, a claim that could not
be measured an ``error``, a claim that does not apply ``skipped``. A claim refuted as the
lab expects passes, with its reason in ``system-out``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from implicitbias.claims.claim import Outcome


def _measured(outcome: Outcome) -> str:
    if outcome.measured is None:
        return "not measured"
    text = f"measured {outcome.measured:.6g} (criterion {outcome.criterion})"
    if outcome.seeds > 1:
        text += f" over {outcome.seeds} seeds, {outcome.rule}"
    return text


def junit_xml(outcomes: Sequence[Outcome], *, name: str, seconds: float = 0.0) -> str:
    """The JUnit XML document (a single ``testsuite``) for ``outcomes``."""
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(outcomes)),
        failures=str(sum(o.status == "UNEXPECTED" for o in outcomes)),
        errors=str(sum(o.verdict == "error" for o in outcomes)),
        skipped=str(sum(o.verdict == "not applicable" for o in outcomes)),
        time=f"{seconds:.3f}",
    )
    for o in outcomes:
        experiment, _, claim = o.id.partition("/")
        case = ET.SubElement(suite, "testcase", classname=f"{name}.{experiment}", name=claim)
        if o.verdict == "error":
            ET.SubElement(case, "error", message=o.error or "error").text = o.error
        elif o.verdict == "not applicable":
            ET.SubElement(case, "skipped", message=o.reason or "not applicable")
        elif o.status == "UNEXPECTED":
            message = f"expected {o.expected_verdict}, got {o.verdict}: {_measured(o)}"
            ET.SubElement(case, "failure", message=message).text = o.statement
        else:
            out = f"{o.verdict} as expected: {_measured(o)}"
            if o.refuted_because:
                out += f"; refuted because {o.refuted_because}"
            ET.SubElement(case, "system-out").text = out
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
