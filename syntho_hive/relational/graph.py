"""The schema graph: relationships between tables and a parents-first generation order.

A :class:`Relationship` is one foreign key of a child table, possibly over several columns
(a composite FK to a composite primary key). Each child table is *generated under* one
relationship, its **primary** one (the first declared FK to another table): the number of
rows it gets follows the children-per-parent distribution of that parent. Its other FKs
are **secondary** (assigned by the parents' popularity) and FKs to the table itself are
**self-references** (assigned as a hierarchy after the table's keys exist).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import SchemaError

__all__ = ["Relationship", "SchemaGraph"]


@dataclass(frozen=True)
class Relationship:
    """One foreign key: ``child.child_columns`` reference ``parent.parent_columns``.

    Attributes:
        child: Child table name.
        child_columns: FK columns of the child (one, or several for a composite key).
        parent: Parent table name.
        parent_columns: The parent's primary-key columns, aligned with ``child_columns``.
    """

    child: str
    child_columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]

    @property
    def is_self(self) -> bool:
        """Whether the FK points at its own table (``employees.manager_id -> employees.id``)."""
        return self.child == self.parent

    @property
    def shared_columns(self) -> tuple[str, ...]:
        """Columns of a self-reference that reference themselves (``company`` of ``(company, boss_no) ->
        staff(company, emp_no)``: a boss in the row's own company); none for other FKs."""
        return tuple(c for c, p in zip(self.child_columns, self.parent_columns) if self.is_self and c == p)

    @property
    def name(self) -> str:
        """A stable, file-name friendly label, e.g. ``orders.customer_id->customers``."""
        return f"{self.child}.{'+'.join(self.child_columns)}->{self.parent}"


def _split_target(table: str, column: str, target: str) -> tuple[str, str]:
    parent, dot, parent_col = str(target).rpartition(".")
    if not dot or not parent or not parent_col:
        raise SchemaError(f"table {table!r}: foreign key {column!r} -> {target!r} must be written "
                          "'parent_table.parent_column'.")
    return parent, parent_col


def _relationships_of(metadata: Metadata, name: str) -> list[Relationship]:
    """Group a table's FK entries into relationships (composite FKs become one)."""
    table = metadata.tables[name]
    singles: list[Relationship] = []
    composite: dict[str, list[tuple[str, str]]] = {}
    order: list[tuple[str, str]] = []  # (kind, key) in declaration order
    for column, target in table.fk.items():
        parent_name, parent_col = _split_target(name, column, target)
        parent = metadata.tables.get(parent_name)
        if parent is None:
            raise SchemaError(f"table {name!r}: foreign key {column!r} points at unknown table "
                              f"{parent_name!r}; known tables: {sorted(metadata.tables)}.")
        pk = parent.pk_columns
        if not pk:
            raise SchemaError(f"table {name!r}: foreign key {column!r} points at table {parent_name!r}, "
                              "which has no primary key; declare pk for it.")
        if parent_col not in pk:
            raise SchemaError(f"table {name!r}: foreign key {column!r} points at {target!r}, which is not "
                              f"the primary key of {parent_name!r} ({pk}); point it at the pk.")
        if len(pk) == 1:
            singles.append(Relationship(name, (column,), parent_name, (parent_col,)))
            order.append(("single", str(len(singles) - 1)))
        else:
            if parent_name not in composite:
                order.append(("composite", parent_name))
            composite.setdefault(parent_name, []).append((column, parent_col))
    result: list[Relationship] = []
    for kind, key in order:
        if kind == "single":
            result.append(singles[int(key)])
            continue
        pairs = composite[key]
        pk = metadata.tables[key].pk_columns
        referenced = [p for _, p in pairs]
        if sorted(referenced) != sorted(pk):
            raise SchemaError(
                f"table {name!r}: foreign key column(s) {[c for c, _ in pairs]} reference "
                f"{[f'{key}.{p}' for p in referenced]}, but the primary key of {key!r} is composite "
                f"{pk}; a composite FK must reference every key column exactly once (declare one FK "
                "column per parent key column). Several composite FKs to the same parent are not "
                "supported.")
        by_parent = dict((p, c) for c, p in pairs)
        result.append(Relationship(name, tuple(by_parent[p] for p in pk), key, tuple(pk)))
    return result


@dataclass
class SchemaGraph:
    """Tables and foreign keys of a :class:`Metadata`, with a parents-first order.

    Build it with :meth:`from_metadata`.

    Attributes:
        tables: Table names in declaration order.
        relationships: Every FK relationship, in declaration order.
        order: Table names, every parent before its children (self-references ignored).
    """

    tables: list[str]
    relationships: list[Relationship]
    order: list[str] = field(default_factory=list)

    @classmethod
    def from_metadata(cls, metadata: Metadata) -> "SchemaGraph":
        """Build the graph and its generation order.

        Args:
            metadata: The schema.

        Returns:
            The graph.

        Raises:
            SchemaError: A malformed or dangling FK, a partial composite FK, or a cycle between
                tables (the message names the tables in the cycle).
        """
        tables = list(metadata.tables)
        relationships = [rel for name in tables for rel in _relationships_of(metadata, name)]
        graph = cls(tables, relationships)
        graph.order = graph._topological_order()
        return graph

    # ------------------------------------------------------------------ queries
    def parents_of(self, table: str) -> list[Relationship]:
        """FK relationships of ``table`` to *other* tables, in declaration order."""
        return [r for r in self.relationships if r.child == table and not r.is_self]

    def primary(self, table: str) -> Relationship | None:
        """The relationship ``table`` is generated under (first FK to another table), or ``None``."""
        parents = self.parents_of(table)
        return parents[0] if parents else None

    def secondary(self, table: str) -> list[Relationship]:
        """FKs of ``table`` to other tables besides the primary one."""
        return self.parents_of(table)[1:]

    def self_references(self, table: str) -> list[Relationship]:
        """FKs of ``table`` pointing at itself."""
        return [r for r in self.relationships if r.child == table and r.is_self]

    def children_of(self, table: str) -> list[Relationship]:
        """Relationships in which ``table`` is the parent of another table."""
        return [r for r in self.relationships if r.parent == table and not r.is_self]

    def roots(self) -> list[str]:
        """Tables without a parent table (sized by ``num_rows`` / ``scale``)."""
        return [t for t in self.order if self.primary(t) is None]

    def depth(self) -> int:
        """Longest parent->child chain, in edges (0 for unrelated tables)."""
        level: dict[str, int] = {}
        for table in self.order:
            level[table] = max((level[r.parent] + 1 for r in self.parents_of(table)), default=0)
        return max(level.values(), default=0)

    def __iter__(self) -> Iterator[str]:
        return iter(self.order)

    # ------------------------------------------------------------------ ordering
    def _topological_order(self) -> list[str]:
        """Kahn's algorithm, stable in declaration order; a leftover means a cycle."""
        parents = {t: {r.parent for r in self.parents_of(t)} for t in self.tables}
        order: list[str] = []
        placed: set[str] = set()
        remaining = list(self.tables)
        while remaining:
            ready = [t for t in remaining if parents[t] <= placed]
            if not ready:
                cycle = self._find_cycle(remaining, parents)
                raise SchemaError(
                    "The foreign keys form a cycle between tables "
                    f"{' -> '.join(cycle)}; no table in it can be generated first. Make one of these "
                    "FKs nullable and drop it from the metadata (or model it as a column), or "
                    "merge the tables.")
            order.extend(ready)
            placed.update(ready)
            remaining = [t for t in remaining if t not in placed]
        return order

    @staticmethod
    def _find_cycle(remaining: list[str], parents: dict[str, set[str]]) -> list[str]:
        """One cycle among ``remaining`` tables, as ``[a, b, ..., a]`` (child -> parent)."""
        stuck = set(remaining)
        start = remaining[0]
        path: list[str] = []
        seen: dict[str, int] = {}
        node = start
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = sorted(p for p in parents[node] if p in stuck)[0]
        cycle = path[seen[node]:] + [node]
        return cycle
