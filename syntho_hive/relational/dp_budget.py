"""One differential-privacy budget for a whole schema: how it is split, and what was spent.

``Synthesizer(metadata, privacy_config=PrivacyConfig(dp=DPConfig(max_epsilon=E, delta=D)))`` spends
at most ``(E, D)`` over every table. The split (:func:`plan_schema_budget`), decided from the schema
alone before any row is read:

* every table that learns something from its rows (a model of its non-key columns, or a
  children-per-parent histogram per foreign key) gets an equal share of ``E`` and of ``D``;
* within a table with both, the histograms of its foreign keys get :data:`LINK_SHARE` of the
  table's share (composed in Rényi DP into one Gaussian mechanism) and the model the rest,
  as its own ``DPConfig(max_epsilon=..., delta=...)`` (preprocessing and DP-SGD, composed by the
  model itself).

The total is **basic composition**: ``epsilon = sum of every mechanism's epsilon`` and the same for
``delta``, each converted at its own delta. It holds whatever rows of different tables belong to
the same person, so no disjointness is assumed; it is an upper bound (a Rényi-DP composition over
all tables would be tighter). :class:`SchemaPrivacySpent` is what the synthesizer reports
(``Synthesizer.privacy_spent_``, the saved manifest, the sampling events and the validation
report).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from syntho_hive.core.dp.accounting import PrivacySpent, epsilon_of, gaussian_noise_for, gaussian_rdp
from syntho_hive.core.dp.config import DPConfig
from syntho_hive.exceptions import SerializationError

__all__ = ["LINK_SHARE", "ACCOUNTANT", "TableBudget", "LinkSpent", "TablePrivacySpent", "SchemaPrivacySpent",
           "plan_schema_budget", "link_noise", "table_bounds"]

#: Share of a table's budget that the histograms of its foreign keys get when it also has a model.
LINK_SHARE = 0.25
#: How the schema's total is composed.
ACCOUNTANT = "basic composition over tables and mechanisms"
#: Shares are cut this much below their exact value, so rounding never lets their sum pass the budget.
_SAFETY = 1.0 - 1e-9


@dataclass(frozen=True)
class TableBudget:
    """One table's part of the schema's budget.

    Attributes:
        table: The table.
        epsilon / delta: Its whole share.
        model: The ``DPConfig`` its model is built with (``None``: no model).
        link_epsilon / link_delta: The share of its foreign keys' histograms (0: none).
        link_sensitivity_sq: Sum of the squared L2 sensitivities of those histograms.
    """

    table: str
    epsilon: float
    delta: float
    model: DPConfig | None
    link_epsilon: float
    link_delta: float
    link_sensitivity_sq: float


def table_bounds(config: DPConfig, table: str, columns: list[str]) -> dict[str, tuple[Any, Any]]:
    """The declared bounds of ``table``: keys ``"table.column"`` win over bare ``"column"`` keys."""
    out = {c: pair for c, pair in config.bounds.items() if c in columns}
    out.update({c.partition(".")[2]: pair for c, pair in config.bounds.items()
                if c.partition(".")[0] == table and c.partition(".")[2] in columns})
    return out


def plan_schema_budget(config: DPConfig, needs: Mapping[str, tuple[bool, float]],
                       columns: Mapping[str, list[str]]) -> dict[str, TableBudget]:
    """Split ``config``'s budget between the tables (see the module docstring).

    Args:
        config: The schema-wide settings.
        needs: ``{table: (has_model, squared sensitivity of its links' histograms)}`` for every table.
        columns: ``{table: the columns its model trains on}`` (to hand each model its declared bounds).

    Returns:
        ``{table: budget}`` for every table of ``needs`` (zero for a table that learns nothing).
    """
    spenders = [name for name, (model, links) in needs.items() if model or links > 0]
    share = 1.0 / max(len(spenders), 1)
    out: dict[str, TableBudget] = {}
    for name, (has_model, links) in needs.items():
        if name not in spenders:
            out[name] = TableBudget(name, 0.0, 0.0, None, 0.0, 0.0, 0.0)
            continue
        epsilon, delta = config.max_epsilon * share * _SAFETY, config.delta * share * _SAFETY
        link_part = (LINK_SHARE if has_model else 1.0) if links > 0 else 0.0
        model = None
        if has_model:
            model = replace(config, max_epsilon=epsilon * (1.0 - link_part), delta=delta * (1.0 - link_part),
                            bounds=table_bounds(config, name, columns.get(name, [])))
        out[name] = TableBudget(name, epsilon, delta, model, epsilon * link_part, delta * link_part, float(links))
    return out


def link_noise(budget: TableBudget) -> float | None:
    """The noise standard deviation of every bucket of the table's link histograms (``None``: no link)."""
    if budget.link_sensitivity_sq <= 0:
        return None
    return gaussian_noise_for(budget.link_epsilon, budget.link_delta, budget.link_sensitivity_sq)


@dataclass(frozen=True)
class LinkSpent:
    """What the foreign-key histograms of one table spent.

    Attributes:
        epsilon / delta: Composed over the table's links (Rényi DP, converted at ``delta``).
        noise: Noise standard deviation of every bucket.
        links: Foreign keys (self-references included) with a histogram.
        sensitivity_sq: Sum of their squared L2 sensitivities.
    """

    epsilon: float
    delta: float
    noise: float
    links: int
    sensitivity_sq: float

    @classmethod
    def of(cls, budget: TableBudget, noise: float, links: int) -> "LinkSpent":
        """The spend of ``links`` histograms with ``noise`` under ``budget``."""
        spent = epsilon_of(gaussian_rdp(noise, budget.link_sensitivity_sq), budget.link_delta)
        return cls(spent, budget.link_delta, noise, links, budget.link_sensitivity_sq)


@dataclass(frozen=True)
class TablePrivacySpent:
    """What one table spent: its model's :class:`PrivacySpent` and its links' :class:`LinkSpent`.

    Attributes:
        table: The table.
        budget_epsilon / budget_delta: Its share of the schema's budget.
        model: The model's spend (``None``: no model).
        links: The foreign-key histograms' spend (``None``: no link).
    """

    table: str
    budget_epsilon: float
    budget_delta: float
    model: PrivacySpent | None = None
    links: LinkSpent | None = None

    @property
    def epsilon(self) -> float:
        """Model and links, composed basically."""
        return (self.model.epsilon if self.model else 0.0) + (self.links.epsilon if self.links else 0.0)

    @property
    def delta(self) -> float:
        """Model and links, summed."""
        return (self.model.delta if self.model else 0.0) + (self.links.delta if self.links else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "delta": self.delta, "budget_epsilon": self.budget_epsilon,
                "budget_delta": self.budget_delta, "model": self.model.to_dict() if self.model else None,
                "links": vars(self.links).copy() if self.links else None}


@dataclass(frozen=True)
class SchemaPrivacySpent:
    """The privacy a whole schema's fit spent (``Synthesizer.privacy_spent_``).

    Attributes:
        max_epsilon / max_delta: The budget (``DPConfig.max_epsilon`` and ``delta``).
        tables: Every table's spend (zero for tables that learn nothing).
        accountant: :data:`ACCOUNTANT`.
    """

    max_epsilon: float
    max_delta: float
    tables: dict[str, TablePrivacySpent] = field(default_factory=dict)
    accountant: str = ACCOUNTANT

    @property
    def epsilon(self) -> float:
        """The total epsilon: the sum over the tables (at most ``max_epsilon``)."""
        return math.fsum(t.epsilon for t in self.tables.values())

    @property
    def delta(self) -> float:
        """The total delta: the sum over the tables (at most ``max_delta``)."""
        return math.fsum(t.delta for t in self.tables.values())

    def event_fields(self) -> dict[str, float]:
        """The fields sampling events carry."""
        return {"dp_epsilon": self.epsilon, "dp_delta": self.delta, "dp_max_epsilon": self.max_epsilon}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: totals, budget, accountant and every table's part."""
        return {"epsilon": self.epsilon, "delta": self.delta, "max_epsilon": self.max_epsilon,
                "max_delta": self.max_delta, "accountant": self.accountant,
                "tables": {name: spent.to_dict() for name, spent in self.tables.items()}}

    @classmethod
    def from_dict(cls, data: Any, source: str = "the privacy spent") -> "SchemaPrivacySpent":
        """Inverse of :meth:`to_dict`.

        Raises:
            SerializationError: A missing or malformed field.
        """
        try:
            tables = {}
            for name, entry in data["tables"].items():
                links = entry["links"]
                tables[str(name)] = TablePrivacySpent(
                    str(name), float(entry["budget_epsilon"]), float(entry["budget_delta"]),
                    PrivacySpent.from_dict(entry["model"]) if entry["model"] is not None else None,
                    LinkSpent(**{k: links[k] for k in LinkSpent.__dataclass_fields__}) if links is not None else None)
            return cls(float(data["max_epsilon"]), float(data["max_delta"]), tables, str(data["accountant"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"{source} is corrupt ({type(exc).__name__}: {exc}); save the synthesizer "
                                     "again.") from exc
