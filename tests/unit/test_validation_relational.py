"""Relational metrics: orphans, children per parent, parent-child trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import relational_metrics


def _metadata() -> Metadata:
    return (Metadata().add_table("shops", pk="shop_id")
            .add_table("sales", pk="sale_id", fk={"shop_id": "shops.shop_id"}))


def _shop_data(n_shops: int, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    size = rng.choice(["small", "large"], n_shops, p=[0.7, 0.3])
    shops = pd.DataFrame({"shop_id": np.arange(n_shops), "size": size, "staff": np.where(size == "large", 20, 4)
                          + rng.integers(0, 3, n_shops)})
    counts = rng.poisson(np.where(size == "large", 8, 2))
    shop_of_sale = np.repeat(shops["shop_id"].to_numpy(), counts)
    large = np.repeat(size == "large", counts)
    sales = pd.DataFrame({"sale_id": np.arange(counts.sum()), "shop_id": shop_of_sale,
                          "amount": np.round(rng.gamma(2, np.where(large, 60, 15)), 2)})
    return {"shops": shops, "sales": sales}


def test_hand_computed_orphans_and_cardinality() -> None:
    metadata = _metadata()
    real = {"shops": pd.DataFrame({"shop_id": [1, 2]}),
            "sales": pd.DataFrame({"sale_id": [10, 11], "shop_id": [2, 2]})}          # counts {1: 0, 2: 2}
    synthetic = {"shops": pd.DataFrame({"shop_id": [1, 2]}),
                 "sales": pd.DataFrame({"sale_id": [10, 11, 12, 13], "shop_id": [1, 2, 7, 8]})}  # counts {1,1}
    result = relational_metrics(real, synthetic, metadata)
    assert result is not None
    fk = result.foreign_keys[0]
    assert (fk.child_table, fk.child_column, fk.parent_table, fk.parent_column) == ("sales", "shop_id", "shops",
                                                                                   "shop_id")
    assert fk.orphan_rate_real == 0.0
    assert fk.orphan_rate_synthetic == pytest.approx(0.5)
    assert result.max_orphan_rate == pytest.approx(0.5)
    # real counts [0, 2] vs synthetic [1, 1]: the CDFs differ by 0.5 -> similarity 0.5
    assert fk.cardinality_similarity == pytest.approx(0.5)
    assert fk.children_per_parent_real == 1.0
    assert fk.cardinality_histogram["real"][0] == 0.5 and fk.cardinality_histogram["synthetic"][1] == 1.0


def test_same_process_scores_high_and_broken_link_scores_lower() -> None:
    metadata = _metadata()
    real, fresh = _shop_data(400, 0), _shop_data(400, 1)
    good = relational_metrics(real, fresh, metadata)
    assert good is not None
    assert good.max_orphan_rate == 0.0 and good.cardinality > 0.85
    assert good.parent_child_trends is not None and good.parent_child_trends > 0.85
    broken = {"shops": fresh["shops"], "sales": fresh["sales"].assign(
        shop_id=np.random.default_rng(2).permutation(fresh["sales"]["shop_id"].to_numpy()))}
    worse = relational_metrics(real, broken, metadata)
    assert worse is not None and worse.parent_child_trends < good.parent_child_trends - 0.1


def test_no_foreign_key_returns_none() -> None:
    metadata = Metadata().add_table("shops", pk="shop_id")
    data = _shop_data(10, 0)
    assert relational_metrics({"shops": data["shops"]}, {"shops": data["shops"]}, metadata) is None


def test_missing_table_is_a_schema_error() -> None:
    data = _shop_data(10, 0)
    with pytest.raises(SchemaError, match="table 'sales'"):
        relational_metrics(data, {"shops": data["shops"]}, _metadata())


def test_a_report_on_part_of_the_schema_skips_the_foreign_keys_it_does_not_hold() -> None:
    """Evaluating the parent table alone (neither side has the child) is no error: that key is skipped."""
    data = _shop_data(10, 0)
    assert relational_metrics({"shops": data["shops"]}, {"shops": data["shops"]}, _metadata()) is None


def test_composite_keys_and_dotted_table_names() -> None:
    """A composite FK is one key (its combination checked), and Hive-style ``db.table`` names work."""
    metadata = (Metadata().add_table("sales.lines", pk=["order_id", "line_no"])
                .add_table("sales.returns", pk="return_id",
                           fk={"order_id": "sales.lines.order_id", "line_no": "sales.lines.line_no"}))
    lines = pd.DataFrame({"order_id": [1, 1, 2], "line_no": [1, 2, 1], "qty": [1, 2, 3]})
    real = {"sales.lines": lines,
            "sales.returns": pd.DataFrame({"return_id": [1, 2, 3], "order_id": [1, 1, 2], "line_no": [2, 2, 1]})}
    # (2, 2): both values exist in the parent, the pair does not -> an orphan; (1, 1) has none, (1, 2) two.
    synthetic = {"sales.lines": lines,
                 "sales.returns": pd.DataFrame({"return_id": [1, 2, 3, 4], "order_id": [1, 2, 1, None],
                                                "line_no": [2, 2, 2, 1]})}
    result = relational_metrics(real, synthetic, metadata)
    assert result is not None
    [fk] = result.foreign_keys
    assert (fk.child_table, fk.child_column, fk.parent_table, fk.parent_column) == (
        "sales.returns", "order_id+line_no", "sales.lines", "order_id+line_no")
    assert fk.orphan_rate_real == 0.0 and fk.orphan_rate_synthetic == pytest.approx(1 / 3)  # null key skipped
    assert fk.children_per_parent_real == 1.0 and fk.children_per_parent_synthetic == pytest.approx(2 / 3)
    assert fk.cardinality_histogram["real"][:3] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
