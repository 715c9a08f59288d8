"""Multi-table synthesis: schema graph, keys, children-per-parent models and the orchestrator."""

from syntho_hive.relational.cardinality import CardinalityModel, children_per_parent, count_ks
from syntho_hive.relational.graph import Relationship, SchemaGraph

__all__ = ["SchemaGraph", "Relationship", "CardinalityModel", "children_per_parent", "count_ks"]
