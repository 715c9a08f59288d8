"""Per-column encoders, one small class per kind of column."""

from syntho_hive.core.data.encoders.base import ColumnEncoder
from syntho_hive.core.data.encoders.boolean import BooleanEncoder
from syntho_hive.core.data.encoders.categorical import OneHotEncoder
from syntho_hive.core.data.encoders.datetime import DatetimeEncoder
from syntho_hive.core.data.encoders.frequency import FrequencyEncoder
from syntho_hive.core.data.encoders.gmm import BoundedGMM
from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.data.encoders.numerical import NumericalEncoder
from syntho_hive.core.data.encoders.text import TextGenerator

__all__ = ["ColumnEncoder", "BooleanEncoder", "OneHotEncoder", "DatetimeEncoder",
           "FrequencyEncoder", "BoundedGMM", "IdGenerator", "NumericalEncoder", "TextGenerator"]
