"""Schema graph: parents-first order, diamonds, several FKs to one parent, self-references, cycles."""

from __future__ import annotations

import pytest

from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.graph import Relationship, SchemaGraph


def _shop() -> Metadata:
    # Declared children-first on purpose: the order must come from the keys, not the declaration.
    md = Metadata()
    md.add_table("order_items", pk="item_id", fk={"order_id": "orders.order_id", "product_id": "products.product_id"})
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"})
    md.add_table("products", pk="product_id", fk={"supplier_id": "suppliers.supplier_id"})
    md.add_table("suppliers", pk="supplier_id", fk={"region_id": "regions.region_id"})
    md.add_table("customers", pk="customer_id", fk={"region_id": "regions.region_id"})
    md.add_table("regions", pk="region_id")
    return md


def test_order_is_parents_first_with_a_diamond_and_depth_three() -> None:
    graph = SchemaGraph.from_metadata(_shop())
    position = {t: i for i, t in enumerate(graph.order)}
    for rel in graph.relationships:
        assert position[rel.parent] < position[rel.child], rel
    assert graph.order[0] == "regions"
    assert graph.depth() == 3  # regions -> customers -> orders -> order_items
    assert graph.roots() == ["regions"]
    assert graph.primary("order_items") == Relationship("order_items", ("order_id",), "orders", ("order_id",))
    assert [r.parent for r in graph.secondary("order_items")] == ["products"]
    assert {r.child for r in graph.children_of("regions")} == {"suppliers", "customers"}


def test_two_fks_to_one_parent_are_two_relationships() -> None:
    md = Metadata().add_table("airports", pk="faa")
    md.add_table("flights", pk="flight_id", fk={"origin": "airports.faa", "dest": "airports.faa"})
    graph = SchemaGraph.from_metadata(md)
    assert graph.order == ["airports", "flights"]
    assert [r.child_columns for r in graph.parents_of("flights")] == [("origin",), ("dest",)]
    assert graph.primary("flights").child_columns == ("origin",)


def test_self_reference_is_not_a_cycle() -> None:
    md = Metadata().add_table("employees", pk="id", fk={"manager_id": "employees.id"})
    graph = SchemaGraph.from_metadata(md)
    assert graph.order == ["employees"]
    assert graph.primary("employees") is None
    assert [r.is_self for r in graph.self_references("employees")] == [True]


def test_cycle_raises_schema_error_naming_its_tables() -> None:
    md = Metadata().add_table("root", pk="id")
    md.add_table("a", pk="id", fk={"c_id": "c.id", "root_id": "root.id"})
    md.add_table("b", pk="id", fk={"a_id": "a.id"})
    md.add_table("c", pk="id", fk={"b_id": "b.id"})
    with pytest.raises(SchemaError, match="cycle") as info:
        SchemaGraph.from_metadata(md)
    message = str(info.value)
    for table in ("a", "b", "c"):
        assert repr(table)[1:-1] in message
    assert "root" not in message
    assert "a -> c -> b -> a" in message


def test_composite_fk_to_composite_pk_is_one_relationship() -> None:
    md = Metadata().add_table("orders", pk="order_id")
    md.add_table("lines", pk=["order_id", "line_no"], fk={"order_id": "orders.order_id"})
    md.add_table("shipments", pk="shipment_id", fk={"s_line": "lines.line_no", "s_order": "lines.order_id"})
    rel = SchemaGraph.from_metadata(md).primary("shipments")
    assert rel.child_columns == ("s_order", "s_line")  # aligned with the parent's pk order
    assert rel.parent_columns == ("order_id", "line_no")


def test_partial_composite_fk_is_a_clear_error() -> None:
    md = Metadata().add_table("lines", pk=["order_id", "line_no"])
    md.add_table("shipments", pk="shipment_id", fk={"s_order": "lines.order_id"})
    with pytest.raises(SchemaError, match=r"composite.*every key column"):
        SchemaGraph.from_metadata(md)


@pytest.mark.parametrize(("fk", "message"), [
    ({"x": "nowhere.id"}, "unknown table 'nowhere'"),
    ({"x": "parent"}, "parent_table.parent_column"),
    ({"x": "parent.name"}, "not the primary key"),
])
def test_bad_foreign_keys_raise(fk: dict[str, str], message: str) -> None:
    md = Metadata().add_table("parent", pk="id").add_table("child", pk="id", fk=fk)
    with pytest.raises(SchemaError, match=message):
        SchemaGraph.from_metadata(md)
