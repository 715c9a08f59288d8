"""An integer too large for a float (10**400) given where a number is expected is refused with the library's
error, not a raw OverflowError from ``float(value)``/``math.isfinite(value)``."""
from __future__ import annotations

from typing import Any, Callable

import pandas as pd
import pytest

from syntho_hive.core.dp.config import DPConfig
from syntho_hive.core.quality.profile import MarginalProfile
from syntho_hive.exceptions import ConfigurationError, SerializationError
from syntho_hive.relational.subset import Subset

HUGE = 10**400


@pytest.mark.parametrize("build", [
    lambda: DPConfig(max_epsilon=HUGE, delta=1e-5),
    lambda: DPConfig(max_epsilon=1.0, delta=HUGE),
    lambda: DPConfig(max_epsilon=1.0, delta=1e-5, max_grad_norm=HUGE),
    lambda: Subset("t", fraction=HUGE),
], ids=["dp-max_epsilon", "dp-delta", "dp-max_grad_norm", "subset-fraction"])
def test_a_huge_integer_option_is_a_configuration_error(build: Callable[[], Any]) -> None:
    with pytest.raises(ConfigurationError, match="must be a"):
        build()


def test_a_stored_profile_with_a_huge_integer_is_a_serialization_error() -> None:
    stored = MarginalProfile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.5] * 10}), {"x": "numerical"}).to_dict()
    stored["columns"]["x"]["tail"] = HUGE
    with pytest.raises(SerializationError, match="finite number"):
        MarginalProfile.from_dict(stored)


@pytest.mark.parametrize(("build", "error"), [
    (lambda: Subset("t", rows=True), "rows must be an integer >= 1"),
    (lambda: Subset("t", fraction=True), r"fraction must be a number in \(0, 1\]"),
    (lambda: Subset("t", rows=3, seed=1.0), "seed must be a non-negative integer"),
    (lambda: DPConfig(max_epsilon=True, delta=1e-5), "max_epsilon must be a finite number > 0"),
], ids=["rows-bool", "fraction-bool", "seed-float", "dp-bool"])
def test_the_shared_checks_keep_the_messages(build: Callable[[], Any], error: str) -> None:
    with pytest.raises(ConfigurationError, match=error):
        build()
