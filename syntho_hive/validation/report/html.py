"""Render a :class:`QualityResult` and the data's distributions as one self-contained HTML page.

No external assets: CSS inline, charts as inline SVG, a Content-Security-Policy that forbids every
network load. Every value is escaped with :func:`html.escape`. Real rows appear only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._random import child_seed, numpy_generator
from syntho_hive.validation.evaluate import QualityResult, TableQuality
from syntho_hive.validation.relational import ForeignKeyQuality
from syntho_hive.validation.report._format import e as _e
from syntho_hive.validation.report._format import fmt as _fmt
from syntho_hive.validation.report.disclosure import disclosure_reading as _disclosure_reading
from syntho_hive.validation.report.dp import dp_section as _dp_section
from syntho_hive.validation.report.disclosure import disclosure_section as _disclosure_section
from syntho_hive.validation.report.distributions import column_distribution, correlation_matrices
from syntho_hive.validation.report.svg import heatmap, paired_bars

__all__ = ["render_html", "plain_reading"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1200px;
color:#222;padding:0 16px}h1{margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f4f4f4}.score{font-weight:bold}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}.card .v{font-size:24px;font-weight:bold}
.grid{display:flex;flex-wrap:wrap;gap:10px}.plot{border:1px solid #eee;padding:4px}.plot h4{margin:2px 0;font-size:13px}
.muted{color:#777;font-size:13px}.warn{color:#a40000}.reading li{margin:4px 0}
"""

_ERROR_HOOK = ("window.__reportErrors=[];window.addEventListener('error',function(e){"
               "window.__reportErrors.push(String(e.message));"
               "document.documentElement.setAttribute('data-report-errors',String(window.__reportErrors.length));});")
_READY = "document.documentElement.setAttribute('data-report-ready','1');"


def _grade(score: float) -> str:
    if score >= 0.9:
        return "very close to"
    if score >= 0.8:
        return "close to"
    if score >= 0.7:
        return "fairly close to"
    return "far from"


def plain_reading(result: QualityResult) -> list[str]:
    """Short plain-language sentences that say what the scores mean."""
    lines = [f"Overall the synthetic data is {_grade(result.overall)} the real data "
             f"(overall score {result.overall:.2f} of 1; column shapes {_fmt(result.column_shapes, 2)}, "
             f"column pair trends {_fmt(result.column_pair_trends, 2)})."]
    shapes = [(f"{t}.{c}" if len(result.tables) > 1 else str(c), s)
              for t, table in result.tables.items() for c, s in table.column_shapes.items()]
    weakest = sorted(shapes, key=lambda item: item[1])[:3]
    if weakest and weakest[0][1] < 0.9:
        lines.append("The least faithful columns are " + ", ".join(f"{c} ({s:.2f})" for c, s in weakest) + ".")
    if result.detection_auc is not None:
        auc = result.detection_auc
        how = ("can barely tell real from synthetic rows" if auc <= 0.6 else
               "can tell real from synthetic rows some of the time" if auc <= 0.75 else
               "easily tells real from synthetic rows")
        lines.append(f"A classifier {how} (detection ROC AUC {auc:.2f}; 0.5 is ideal).")
        if auc < 0.4:
            lines.append("An AUC this far below 0.5 is not a sign of difference: it comes from few rows, or from "
                         "few distinct rows (identical rows share a cross-validation fold, so copies of real rows "
                         "score 0.5, except in a table of under 30 distinct rows, where the folds cannot be "
                         "grouped and a faithful sample scores below 0.5; the exact-copy rate reports copies).")
    if result.ml_efficacy is not None:
        ratio = result.ml_efficacy
        if ratio < 0:
            lines.append(f"A model trained on synthetic data does worse than predicting the average (score ratio "
                         f"{ratio:.2f} to one trained on real data): the synthetic rows do not carry the target's "
                         "relationships.")
        else:
            lines.append(f"A model trained on synthetic data reaches {ratio:.0%} of the score of one trained on real "
                         "data" + (" (above 100%: the synthetic-data model did better on this test set; with few rows the ratio is noisy)."
                                   if ratio > 1.05 else "."))
        if any(t.efficacy is not None and t.efficacy.holdout == "split" for t in result.tables.values()):
            lines.append("No holdout was given, so the efficacy test rows are real rows the generator most likely "
                         "trained on: the ratio is optimistic (a generator copying its training rows scores above "
                         "100%). Pass a holdout for an unbiased figure.")
    if result.privacy is not None:
        p = result.privacy
        chance = p.holdout_copy_rate
        if p.exact_copy_rate > 0 and chance is not None and p.exact_copy_rate <= chance:
            lines.append(f"{p.exact_copy_rate:.1%} of synthetic rows equal a training row, no more than chance: "
                         f"{chance:.1%} of holdout rows, which the generator never saw, do too (the compared "
                         "columns take few values).")
        elif p.exact_copy_rate > 0:
            lines.append(f"Warning: {p.exact_copy_rate:.1%} of synthetic rows are exact copies of training rows"
                         + (f" ({chance:.1%} of holdout rows, which the generator never saw, equal a training "
                            "row: the chance level)." if chance is not None else "."))
        else:
            lines.append("No synthetic row is an exact copy of a training row.")
        if p.dcr_share_closer_to_training is not None:
            share = p.dcr_share_closer_to_training
            if share > 0.6:
                verdict = "some rows sit closer to training records than fresh data would"
            elif p.exact_copy_rate > 0:  # the share compares samples; copies are counted on every row
                verdict = "no sign of memorisation beyond the exact copies above"
            else:
                verdict = "no sign of memorisation"
            lines.append(f"{share:.0%} of synthetic rows are closer to a training row than to a holdout row "
                         f"(50% is ideal): {verdict}.")
        else:
            lines.append("No holdout was given, so distance-to-closest-record cannot be compared against "
                         "fresh real data.")
        lines.extend(_disclosure_reading(result))
    references = [str(name) for name, table in result.tables.items() if table.reference]
    if references:
        lines.append(f"Reference tables copied verbatim by design, left out of the privacy figures: "
                     f"{', '.join(references)}.")
    if result.relational is not None:
        rel = result.relational
        if rel.max_orphan_rate > 0:
            lines.append(f"Warning: up to {rel.max_orphan_rate:.1%} of synthetic child rows reference a "
                         "missing parent.")
        else:
            lines.append("Every synthetic foreign key points at an existing parent.")
        if rel.cardinality is not None:
            lines.append(f"Children-per-parent counts score {rel.cardinality:.2f} (1 is identical).")
    return lines


def _cards(result: QualityResult) -> str:
    items = [("Overall", result.overall), ("Column shapes", result.column_shapes),
             ("Column pair trends", result.column_pair_trends), ("Detection AUC (0.5 ideal)", result.detection_auc),
             ("ML efficacy ratio", result.ml_efficacy)]
    if result.privacy is not None:
        items.append(("DCR share closer to training (0.5 ideal)", result.privacy.dcr_share_closer_to_training))
        items.append(("Exact-copy rate", result.privacy.exact_copy_rate))
        if result.privacy.membership_inference_auc is not None:
            items.append(("Membership-inference AUC (0.5 ideal)", result.privacy.membership_inference_auc))
        if result.privacy.attribute_inference_risk is not None:
            items.append(("Attribute-inference risk (0 ideal)", result.privacy.attribute_inference_risk))
    if result.relational is not None:
        items.append(("Max orphan rate", result.relational.max_orphan_rate))
        items.append(("Cardinality", result.relational.cardinality))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{_e(v)}</div></div>' for k, v in items
    ) + "</div>"


def _shape_table(table: TableQuality) -> str:
    rows = "".join(f"<tr><td>{escape(str(c))}</td><td>{escape(str(table.sdtypes.get(c, '')))}</td>"
                   f"<td>{'KSComplement' if table.sdtypes.get(c) in ('numerical', 'datetime') else 'TVComplement'}</td>"
                   f'<td class="score">{_e(s)}</td></tr>' for c, s in table.column_shapes.items())
    skipped = [c for c, t in table.sdtypes.items() if c not in table.column_shapes]
    note = (f'<p class="muted">Not scored (id/text): {escape(", ".join(map(str, skipped)))}</p>' if skipped else "")
    return ("<table><tr><th>Column</th><th>sdtype</th><th>Metric</th><th>Score</th></tr>" + rows + "</table>" + note)


def _pair_table(table: TableQuality, limit: int = 15) -> str:
    trends = table.pair_trends
    pairs = sorted(trends.pairs, key=lambda p: p.score)[:limit]
    if not pairs:
        return '<p class="muted">No column pair to score.</p>'
    rows = "".join(f"<tr><td>{escape(p.column_1)}</td><td>{escape(p.column_2)}</td><td>{escape(p.metric)}</td>"
                   f'<td class="score">{_e(p.score)}</td><td>{"yes" if p.contributes else "no"}</td></tr>'
                   for p in pairs)
    notes = []
    if trends.rows_sampled:
        notes.append(f"rows sampled to {trends.n_rows_real} real / {trends.n_rows_synthetic} synthetic")
    if trends.pairs_sampled:
        notes.append(f"{len(trends.pairs)} of {trends.pairs_total} pairs sampled")
    note = f'<p class="muted">{escape("; ".join(notes))}</p>' if notes else ""
    return (f'<p>Weakest {len(pairs)} pairs (score {_e(trends.score)} over the pairs related in the real data; '
            f'{_e(trends.mean_all_pairs)} over all pairs):</p><table><tr><th>Column 1</th><th>Column 2</th>'
            f"<th>Metric</th><th>Score</th><th>Counts in score</th></tr>{rows}</table>{note}")


def _distribution_plots(real: pd.DataFrame, synthetic: pd.DataFrame, table: TableQuality) -> str:
    plots = []
    for column, sdtype in table.sdtypes.items():
        dist = column_distribution(real[column], synthetic[column], sdtype)
        if dist is None:
            continue
        score = table.column_shapes.get(column)
        svg = paired_bars(dist.labels, dist.real, dist.synthetic, title=f"{column}: real vs synthetic",
                          rotate_labels=dist.categorical)
        plots.append(f'<div class="plot"><h4>{escape(str(column))} <span class="muted">({escape(sdtype)}, '
                     f"score {_e(score)})</span></h4>{svg}</div>")
    return '<div class="grid">' + "".join(plots) + "</div>" if plots else '<p class="muted">No plottable column.</p>'


def _heatmaps(real: pd.DataFrame, synthetic: pd.DataFrame, table: TableQuality, seed: int) -> str:
    matrices = correlation_matrices(real, synthetic, table.sdtypes,
                                    rng=numpy_generator(child_seed(seed, table.name, "report", "corr")))
    if matrices is None:
        return '<p class="muted">Fewer than two numerical/datetime/boolean columns: no correlation heatmap.</p>'
    labels, real_corr, synth_corr = matrices
    diff = np.abs(real_corr - synth_corr)
    return ('<div class="grid">'
            f'<div class="plot">{heatmap(real_corr, labels, title="Real correlations")}</div>'
            f'<div class="plot">{heatmap(synth_corr, labels, title="Synthetic correlations")}</div>'
            f'<div class="plot">{heatmap(diff, labels, title="Absolute difference", vmin=0.0, vmax=1.0, diverging=False)}</div>'
            "</div>")


def _privacy_section(table: TableQuality) -> str:
    p = table.privacy
    if p is None and table.reference:
        return ('<p class="muted">A reference (lookup) table, copied verbatim from the real data by design: '
                "no privacy figure.</p>")
    if p is None and "privacy" in table.skipped:
        return f'<p class="muted">Privacy figures were not computed: {escape(table.skipped["privacy"])}.</p>'
    if p is None:
        return '<p class="muted">Privacy figures were not computed.</p>'
    rows = [("Share of synthetic rows closer to training than to holdout (0.5 ideal)", p.dcr_share_closer_to_training),
            ("Median distance to closest training row", p.dcr_synthetic_to_training_median),
            ("Median distance to closest holdout row", p.dcr_synthetic_to_holdout_median),
            ("Median holdout-to-training distance (baseline)", p.dcr_holdout_to_training_median),
            ("Median nearest-neighbour distance ratio (1 safest)", p.nndr_median),
            ("5th percentile of that ratio", p.nndr_p05),
            ("Exact-copy rate", p.exact_copy_rate), ("Exact copies", p.exact_copies),
            ("Holdout rows equal to a training row (chance level of the exact-copy rate)", p.holdout_copy_rate)]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{_e(v, 4)}</td></tr>" for k, v in rows)
    note = (f"{p.n_synthetic_used} synthetic rows against {p.n_reference_used} reference rows"
            + (" (sampled)" if p.rows_sampled else ""))
    return f'<table>{body}</table><p class="muted">{escape(note)}</p>{_disclosure_section(p)}'


def _detection_efficacy(table: TableQuality) -> str:
    parts = []
    if table.detection is not None:
        d = table.detection
        parts.append(f"<p>Detection: ROC AUC {_e(d.auc)} &plusmn; {_e(d.auc_std)} ({escape(d.model)}, "
                     f"{d.n_folds}-fold, {d.n_rows_per_class} rows per class).</p>")
    elif "detection" in table.skipped:
        parts.append(f'<p class="muted">Detection skipped: {escape(table.skipped["detection"])}.</p>')
    if table.efficacy is not None:
        m = table.efficacy
        parts.append(f"<p>ML efficacy for {escape(m.target)} ({escape(m.task)}, {escape(m.metric)}): trained on real "
                     f"{_e(m.real_score)}, trained on synthetic {_e(m.synthetic_score)}, ratio {_e(m.ratio)} "
                     f"(holdout: {escape(m.holdout)}).</p>")
        parts.extend(f'<p class="muted">{escape(n)}</p>' for n in m.notes)
    return "".join(parts)


def _relational_section(result: QualityResult) -> str:
    if result.relational is None:
        return ""
    rows, plots = [], []
    for fk in result.relational.foreign_keys:
        rows.append(f"<tr><td>{escape(fk.child_table)}.{escape(fk.child_column)} &rarr; "
                    f"{escape(fk.parent_table)}.{escape(fk.parent_column)}</td><td>{_e(fk.orphan_rate_real, 4)}</td>"
                    f"<td>{_e(fk.orphan_rate_synthetic, 4)}</td><td>{_e(fk.cardinality_similarity)}</td>"
                    f"<td>{_e(fk.children_per_parent_real, 2)}</td><td>{_e(fk.children_per_parent_synthetic, 2)}</td>"
                    f"<td>{_e(fk.pair_trends)}</td></tr>")
        plots.append(_cardinality_plot(fk))
    return ('<h2 id="relational">Relational integrity</h2><table><tr><th>Foreign key</th><th>Orphan rate (real)</th>'
            "<th>Orphan rate (synthetic)</th><th>Cardinality similarity</th><th>Children/parent (real)</th>"
            "<th>Children/parent (synthetic)</th><th>Parent-child trends</th></tr>" + "".join(rows) + "</table>"
            '<div class="grid">' + "".join(plots) + "</div>")


def _cardinality_plot(fk: ForeignKeyQuality) -> str:
    hist = fk.cardinality_histogram
    labels = [str(c) for c in hist["counts"]]
    labels[-1] = labels[-1] + "+"
    title = f"Children per {fk.parent_table} in {fk.child_table}"
    return (f'<div class="plot cardinality"><h4>{escape(title)}</h4>'
            f'{paired_bars(labels, hist["real"], hist["synthetic"], title=title, css_class="cardinality-plot")}</div>')


def _samples(real: pd.DataFrame, synthetic: pd.DataFrame, n: int = 10) -> str:
    def frame(df: pd.DataFrame) -> str:
        head = "".join(f"<th>{escape(str(c))}</th>" for c in df.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in df.head(n).itertuples(index=False))
        return f"<table><tr>{head}</tr>{body}</table>"

    return f"<h4>Real rows (first {n})</h4>{frame(real)}<h4>Synthetic rows (first {n})</h4>{frame(synthetic)}"


def render_html(result: QualityResult, real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame],
                *, include_samples: bool = False, title: str = "SynthoHive validation report",
                generated_at: str = "", version: str = "",
                differential_privacy: Mapping[str, Any] | None = None) -> str:
    """The complete HTML document.

    Args:
        result: Evaluation result.
        real: ``{table: real DataFrame}`` with the same table names as ``result.tables``.
        synthetic: ``{table: synthetic DataFrame}``.
        include_samples: Show the first rows of each real and synthetic table.
        title: Page title.
        generated_at: Timestamp shown in the header.
        version: Library version shown in the header.
        differential_privacy: The privacy spent of a synthesizer fitted under DP (its own section).

    Returns:
        The HTML text.
    """
    reading = "".join(f"<li>{escape(line)}</li>" for line in plain_reading(result))
    sections = []
    for name, table in result.tables.items():
        real_frame, synth_frame = real[name], synthetic[name]
        sections.append(
            f'<section class="table-section"><h2 id="table-{escape(name)}">Table {escape(name)}</h2>'
            f"<p>{table.n_rows_real} real rows, {table.n_rows_synthetic} synthetic rows; overall {_e(table.overall)}, "
            f"column shapes {_e(table.column_shapes_score)}, column pair trends {_e(table.pair_trends.score)}.</p>"
            f"{_detection_efficacy(table)}"
            f"<h3>Column shapes</h3>{_shape_table(table)}"
            f"<h3>Distributions</h3>{_distribution_plots(real_frame, synth_frame, table)}"
            f"<h3>Column pair trends</h3>{_pair_table(table)}"
            f"<h3>Correlations</h3>{_heatmaps(real_frame, synth_frame, table, result.seed)}"
            f"<h3>Privacy</h3>{_privacy_section(table)}"
            + (f"<h3>Sample rows</h3>{_samples(real_frame, synth_frame)}" if include_samples else "")
            + "</section>")
    csp = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style><script>{_ERROR_HOOK}</script></head><body>"
        f"<h1>{escape(title)}</h1><p class=\"muted\">Generated {escape(generated_at)} by SynthoHive "
        f"{escape(version)}; seed {result.seed}; evaluation took {result.seconds:.1f} s.</p>"
        f'<h2 id="overview">Overview</h2>{_cards(result)}<ul class="reading">{reading}</ul>'
        + _dp_section(differential_privacy)
        + "".join(sections) + _relational_section(result)
        + f"<script>{_READY}</script></body></html>\n"
    )
