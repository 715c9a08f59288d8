"""The report's differential-privacy section: the budget a synthesizer fitted under DP spent."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from syntho_hive.validation.report._format import e

__all__ = ["dp_section"]


def dp_section(spent: Mapping[str, Any] | None) -> str:
    """HTML of ``Synthesizer.privacy_spent_.to_dict()``: the totals against the budget and each table's part
    (``""`` without DP).

    Args:
        spent: The privacy spent, or ``None``.

    Returns:
        The section's HTML.
    """
    if not spent:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(name))}</td><td>{e(table['epsilon'])}</td><td>{e(table['delta'], 8)}</td>"
        f"<td>{e((table.get('model') or {}).get('epsilon'))}</td>"
        f"<td>{e((table.get('links') or {}).get('epsilon'))}</td></tr>"
        for name, table in spent.get("tables", {}).items())
    return (f'<h2 id="differential-privacy">Differential privacy</h2><p>Fitted under differential privacy: epsilon '
            f"{e(spent['epsilon'])} of max_epsilon {e(spent['max_epsilon'])}, delta {e(spent['delta'], 8)} of "
            f"{e(spent['max_delta'], 8)} ({escape(str(spent.get('accountant', '')))}). See docs/privacy.md for what "
            "is covered (one row of any table) and what is not (a person's many rows, the schema and row counts)."
            "</p><table><tr><th>Table</th><th>Epsilon</th><th>Delta</th><th>Model</th><th>Foreign keys</th></tr>"
            f"{rows}</table>")
