"""One self-contained HTML card per profiled optimizer (``cards/<key>.html``).

A card is what one would mail about an optimizer: its spec, every probe's measured value
with its seed spread and per-seed values, the reference it is compared with, the nearest
reference where a probe names one, the step the entry was measured at and the rule that
chose it, the notes of the probe, the claims about this optimizer, and the profile's
heatmap (embedded, so the file stands alone).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from implicitbias.claims.claim import Outcome
from implicitbias.report.html import CSS, claims_section, embed_figure, escape, format_number
from implicitbias.runs.results import Results

_EXTRA_CSS = """
td.rule { font-size: 0.85em; color: #333; max-width: 28em; }
td.seeds { font-family: ui-monospace, Menlo, monospace; font-size: 0.8em; max-width: 22em; }
.warn { color: #7a4a00; }
"""


def _claims_of(results: Results, name: str) -> list[Outcome]:
    """The outcomes of the claims about the registry optimizer ``name``."""
    from implicitbias.experiments.profile.claims import OPTIMIZER_OF

    return [Outcome(**c) for c in results.claims if OPTIMIZER_OF.get(c["id"]) == name]


def _mean(m: dict[str, Any]) -> str:
    text = format_number(m["mean"]) if math.isfinite(m["mean"]) else "—"
    if math.isfinite(m["spread"]):
        text += f" ± {format_number(m['spread'])}"
    return f"{text} (n = {m['n']})"


def _rows(results: Results, key: str) -> list[str]:
    rows = []
    for probe in results.scalars["probes"].values():
        entry = probe["optimizers"][key]
        measures = list(entry["measures"].values())
        near = entry.get("nearest")
        near_text = ""
        if near:
            counts = ", ".join(f"{r} {c}" for r, c in near["counts"].items())
            near_text = f"{near['mode']} ({near['agree']}/{near['n']}; {counts})"
        lr = entry["learning_rate"]
        rule = escape(entry["rule"])
        if not entry.get("fitted", True):
            rule = f'<span class="warn">{rule}</span>'
        notes = "".join(f"<br><em>{escape(n)}</em>" for n in entry.get("notes", []))
        for i, m in enumerate(measures):
            ref = m["reference"] or ""
            if m["reference_value"] is not None:
                ref += f" = {format_number(m['reference_value'])}"
            seeds = ", ".join(format_number(v) if math.isfinite(v) else "—" for v in m["values"])
            cells = []
            if i == 0:
                span = f' rowspan="{len(measures)}"'
                cells.append(f"<td{span}><strong>{escape(probe['title'])}</strong></td>")
            cells += [
                f"<td>{escape(m['label'])}</td>",
                f'<td class="num">{escape(_mean(m))}</td>',
                f'<td class="seeds">{escape(seeds)}</td>',
                f"<td>{escape(ref)}</td>",
            ]
            if i == 0:
                cells += [
                    f"<td{span}>{escape(near_text)}</td>",
                    f'<td{span} class="num">{escape(format_number(lr))}</td>',
                    f'<td{span} class="rule">{rule}{notes}</td>',
                ]
            rows.append("<tr>" + "".join(cells) + "</tr>")
    return rows


def render_card(results: Results, key: str) -> str:
    """The card of the optimizer stored under ``key``, as one HTML page."""
    opt = results.scalars["optimizers"][key]
    label, spec = opt["label"], opt["spec"]
    title = f"implicit-bias profile: {label}"
    hparams = ", ".join(f"{k}={v}" for k, v in spec["hparams"].items()) or "factory defaults"
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    head = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta-line">optimizer <code>{escape(spec["name"])}</code> with '
        f"{escape(hparams)}; level {escape(results.scalars['level'])}, "
        f"{results.scalars['seeds']} seeds per probe</p>",
        f'<p class="meta-line">run folder <span class="path">{escape(results.path)}</span>; '
        f"generated {escape(now)}</p>",
        "<p>Each entry: the mean over seeds ± the sample standard deviation, the per-seed "
        "values, and the reference it is compared with. The step column is the learning "
        "rate the entry was measured at; the rule says how it was chosen.</p>",
    ]
    header = [
        "probe",
        "quantity",
        "mean ± spread",
        "per seed",
        "reference",
        "nearest",
        "step",
        "step rule and notes",
    ]
    table = (
        "<table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in header)
        + "</tr></thead><tbody>"
        + "".join(_rows(results, key))
        + "</tbody></table>"
    )
    outcomes = _claims_of(results, spec["name"]) if not spec.get("python_callable") else []
    claims = claims_section(outcomes) if outcomes else "<p>No claim is about this optimizer.</p>"
    figures = ""
    if results.path is not None and (results.path / "heatmap.png").is_file():
        figures = "<h2>The whole profile</h2>" + embed_figure(results.path / "heatmap.png")
    body = "\n".join([*head, "<h2>Probes</h2>", table, claims, figures])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}{_EXTRA_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def all_pages(results: Results) -> dict[str, str]:
    """``cards/<key>.html`` for every optimizer of the profile."""
    return {f"cards/{key}.html": render_card(results, key) for key in results.scalars["optimizers"]}
