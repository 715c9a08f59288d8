"""Boolean columns (``bool``, nullable ``boolean`` or ``object`` True/False): a categorical
with the fixed order ``False, True`` (then the missing value), restored to the same dtype."""

from __future__ import annotations

from syntho_hive.core.data.encoders.categorical import OneHotEncoder

__all__ = ["BooleanEncoder"]


class BooleanEncoder(OneHotEncoder):
    """One-hot ``False``/``True``/missing span (discrete, conditionable).

    Args:
        column: Source column name.
    """

    sdtype = "boolean"

    def __init__(self, column: str) -> None:
        super().__init__(column, order="sorted")
