"""The "Disclosure risk" part of a table's privacy section in the HTML report, with plain explanations,
and the overview's plain sentences on disclosure."""

from __future__ import annotations

from html import escape

from syntho_hive.validation.attribute_inference import AttributeInferenceResult
from syntho_hive.validation.evaluate import QualityResult
from syntho_hive.validation.membership import LOW_FPR, MembershipInferenceResult
from syntho_hive.validation.pii_leaks import PiiLeakResult
from syntho_hive.validation.privacy import PrivacyResult
from syntho_hive.validation.report._format import e

__all__ = ["disclosure_section", "disclosure_reading"]

#: Attribute-inference risk above which a column is highlighted.
_RISK_WARNING = 0.1
#: Membership-inference AUC above which the figure is highlighted.
_AUC_WARNING = 0.6


def _flag(text: str, warn: bool) -> str:
    return f'<span class="warn">{text}</span>' if warn else text


def _membership(m: MembershipInferenceResult | None) -> str:
    head = "<h4>Membership inference</h4>"
    if m is None:
        return head + ('<p class="muted">Not measured: it needs holdout rows (real rows the generator never '
                       "saw) to compare training rows with.</p>")
    return (head + "<p>An attacker who holds real records guesses that those closest to some synthetic row were "
            "used for training. The ROC AUC says how well that guess separates training rows from holdout rows: "
            "0.5 means the synthetic data reveals nothing about who was in the training data, 1 that it reveals "
            "everyone.</p><table>"
            f"<tr><td>Membership-inference ROC AUC (0.5 ideal)</td><td>{_flag(e(m.auc), m.auc > _AUC_WARNING)}</td></tr>"
            f"<tr><td>Attacker advantage, max(TPR &minus; FPR) (0 ideal)</td><td>{e(m.advantage)}</td></tr>"
            f"<tr><td>True-positive rate at {LOW_FPR:.0%} false positives ({LOW_FPR:.2f} ideal)</td>"
            f"<td>{e(m.tpr_at_low_fpr)}</td></tr></table>"
            f'<p class="muted">{m.n_members} training and {m.n_non_members} holdout rows attacked against '
            f"{m.n_synthetic_used} synthetic rows{' (sampled)' if m.rows_sampled else ''}.</p>")


def _attribute(a: AttributeInferenceResult | None) -> str:
    head = "<h4>Attribute inference</h4>"
    if a is None:
        return head + ('<p class="muted">Not measured: no sensitive column was declared (sensitive_columns in '
                       "Python, --sensitive on the command line) to evaluate the risk of inferring it.</p>")
    rows = "".join(
        f"<tr><td>{escape(c.column)}</td><td>{escape(c.kind)}</td><td>{e(c.member_accuracy)}</td>"
        f"<td>{e(c.holdout_accuracy)}</td><td>{e(c.naive_accuracy)}</td>"
        f"<td class=\"score\">{_flag(e(c.risk), c.risk is not None and c.risk > _RISK_WARNING)}</td></tr>"
        for c in a.columns.values())
    return (head + f"<p>An attacker who knows a real person's {escape(', '.join(a.quasi_identifiers))} looks up the "
            f"{'closest synthetic row' if a.k == 1 else f'{a.k} closest synthetic rows'} and guesses the sensitive "
            "value from it (a number counts as guessed within 5% of the column's range by default). The risk is "
            "how much more often the guess is right for people in the training data than for people outside it "
            "(holdout): what the synthetic data gives away about its training records beyond what it teaches "
            "about the population. 0 is ideal. The naive baseline always guesses the most frequent value (or the "
            "median).</p><table><tr><th>Sensitive column</th><th>Kind</th><th>Accuracy on training rows</th>"
            "<th>Accuracy on holdout rows</th><th>Naive baseline</th><th>Risk (training &minus; holdout)</th></tr>"
            f"{rows}</table>")


def _pii(pii: PiiLeakResult, exact_copies: int) -> str:
    parts = ["<h4>PII values and reproduced rows</h4>"]
    if pii.columns:
        rows = "".join(
            f"<tr><td>{escape(c.column)}</td><td>{c.n_synthetic_values}</td>"
            f"<td class=\"score\">{_flag(str(c.leaked_values), c.leaked_values > 0)}</td><td>{e(c.leak_share, 4)}</td>"
            f"<td>{c.distinct_real_values_leaked}</td></tr>" for c in pii.columns.values())
        parts.append("<p>Synthetic values of personal-data columns that equal a real value of the same column "
                     "(ignoring case and spacing). A generator that makes such values up should leak none, apart "
                     "from common values that coincide by chance.</p><table><tr><th>PII column</th>"
                     "<th>Synthetic values</th><th>Equal to a real value</th><th>Share</th>"
                     f"<th>Distinct real values leaked</th></tr>{rows}</table>")
    else:
        parts.append('<p class="muted">No PII column declared (metadata pii_cols, PII semantic types, or '
                     "pii_columns).</p>")
    reproduced = pii.real_rows_reproduced
    parts.append(f"<p>Real rows reproduced whole (every column except keys, text and PII included): "
                 f"{_flag(str(reproduced), reproduced > 0)}"
                 f" (synthetic rows that reproduce one: {pii.synthetic_rows_reproducing}). "
                 f"Synthetic rows equal to a training row on every modelled column (exact copies): "
                 f"{_flag(str(exact_copies), exact_copies > 0)}.</p>")
    return "".join(parts)


def disclosure_reading(result: QualityResult) -> list[str]:
    """Plain sentences on membership inference, attribute inference, PII leaks and reproduced rows."""
    p = result.privacy
    if p is None:
        return []
    lines = []
    if p.membership_inference_auc is not None:
        auc = p.membership_inference_auc
        how = ("cannot tell" if auc <= 0.55 else "can partly tell" if auc <= 0.65 else "can tell")
        lines.append(f"An attacker comparing real records with the synthetic data {how} which ones were used for "
                     f"training (membership-inference AUC {auc:.2f}; 0.5 is ideal).")
    if p.attribute_inference_risk is not None:
        risk = p.attribute_inference_risk
        lines.append(f"Knowing a person's other columns, an attacker guesses a sensitive value right "
                     f"{risk * 100:.0f} percentage points more often for people in the training data than for "
                     "others (attribute-inference risk; 0 is ideal)"
                     + (": the synthetic data gives away little about its training records." if risk <= 0.05
                        else "."))
    if p.pii_value_leaks:
        leaked = [f"{t}.{c}" if len(result.tables) > 1 else c for t, table in result.tables.items()
                  if table.privacy is not None and table.privacy.disclosure is not None
                  for c, leak in table.privacy.disclosure.pii.columns.items() if leak.leaked_values]
        lines.append(f"Warning: {p.pii_value_leaks} synthetic value(s) of PII column(s) {', '.join(leaked)} equal a "
                     "real value of the column.")
    elif p.pii_value_leaks == 0 and _any_pii_columns(result):
        lines.append("No synthetic value of a PII column equals a real value of that column.")
    if p.real_rows_reproduced:
        # The holdout's copy rate compares the modelled columns: a chance level for whole rows only when
        # every table compares whole rows on those same columns (no text or PII column besides).
        chance = p.holdout_copy_rate if _rows_compare_modelled_columns(result) else None
        lines.append(f"Warning: {p.real_rows_reproduced} real row(s) are reproduced whole (every non-key column, "
                     "text and PII included) in the synthetic data"
                     + (f"; {chance:.1%} of holdout rows, which the generator never saw, equal a training row on the "
                        "modelled columns: columns that take few values repeat rows by chance." if chance else "."))
    return lines


def _rows_compare_modelled_columns(result: QualityResult) -> bool:
    """Whether every table's whole-row comparison uses the columns its exact copies compare."""
    return all(set(t.privacy.disclosure.pii.row_columns) == set(map(str, t.privacy.columns))
               for t in result.tables.values() if t.privacy is not None and t.privacy.disclosure is not None)


def _any_pii_columns(result: QualityResult) -> bool:
    return any(t.privacy is not None and t.privacy.disclosure is not None and t.privacy.disclosure.pii.columns
               for t in result.tables.values())


def disclosure_section(privacy: PrivacyResult) -> str:
    """HTML of the disclosure-risk figures of one table (empty when they were not computed)."""
    d = privacy.disclosure
    if d is None:
        return ""
    return ('<div class="disclosure"><h3>Disclosure risk</h3><p>What an attacker holding the synthetic data could '
            "learn about the real people it was made from.</p>"
            + _membership(d.membership) + _attribute(d.attribute_inference) + _pii(d.pii, privacy.exact_copies)
            + "</div>")
