"""check_dp_release then fit (what a Synthesizer under DP does for every table) runs the DP preprocessing once:
fit trains the copy the check prepared when given the same, unchanged arguments, with bit-identical results."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from syntho_hive.core.dp import DPConfig
from syntho_hive.core.models import TVAE, ConditionalGenerativeModel
from syntho_hive.core.models.tabular_ar import TabularAR
from dp_people import make_people

ENGINES: dict[str, tuple[type[ConditionalGenerativeModel], dict[str, Any]]] = {
    "TabularAR": (TabularAR, dict(hidden_dim=16, epochs=1)),
    "TVAE": (TVAE, dict(compress_dims=(16,), decompress_dims=(16,), embedding_dim=4, batch_size=100, epochs=1)),
}


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people()


def counted(monkeypatch: pytest.MonkeyPatch, cls: type[ConditionalGenerativeModel]) -> list[int]:
    calls: list[int] = []
    prepare = cls._prepare

    def wrapped(self: ConditionalGenerativeModel, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return prepare(self, *args, **kwargs)

    monkeypatch.setattr(cls, "_prepare", wrapped)
    return calls


@pytest.mark.parametrize("name", list(ENGINES))
def test_fit_after_the_check_prepares_once_and_gives_the_same_model(name: str, people: pd.DataFrame,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cls, small = ENGINES[name]
    plain = cls(dp=DPConfig(max_epsilon=4.0), **small).fit(people, seed=3, progress_bar=False)
    calls = counted(monkeypatch, cls)
    model = cls(dp=DPConfig(max_epsilon=4.0), **small)
    model.check_dp_release(people, seed=3)
    assert not model.is_fitted
    model.fit(people, seed=3, progress_bar=False)
    assert len(calls) == 1
    assert model.privacy_spent_ == plain.privacy_spent_
    pd.testing.assert_frame_equal(model.sample(200, seed=5, progress_bar=False),
                                  plain.sample(200, seed=5, progress_bar=False))


def test_another_seed_or_a_frame_changed_since_the_check_is_prepared_again(people: pd.DataFrame,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cls, small = ENGINES["TabularAR"]
    calls = counted(monkeypatch, cls)
    model = cls(dp=DPConfig(max_epsilon=4.0), **small)
    model.check_dp_release(people, seed=3)
    model.fit(people, seed=4, progress_bar=False)
    assert len(calls) == 2
    changed = people.copy()
    model.check_dp_release(changed, seed=3)
    changed.iloc[0, 0] = changed.iloc[1, 0]
    model.fit(changed, seed=3, progress_bar=False)
    assert len(calls) == 4
    reference = cls(dp=DPConfig(max_epsilon=4.0), **small).fit(changed, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(model.sample(200, seed=5, progress_bar=False),
                                  reference.sample(200, seed=5, progress_bar=False))
