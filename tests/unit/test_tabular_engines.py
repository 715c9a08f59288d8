"""What CTGAN and TVAE share through their tabular pipeline, on the customers table: samples in the
training format within the declared constraints, and the condition and parent-context checks
(the checks every engine shares: ``test_model_contract.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import CTGAN, TVAE, ConditionalGenerativeModel
from syntho_hive.exceptions import GenerationError, TrainingError

ENGINES: dict[str, tuple[type[ConditionalGenerativeModel], dict[str, Any]]] = {
    "CTGAN": (CTGAN, dict(embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32, 32), batch_size=100,
                          epochs=2, max_modes=3)),
    "TVAE": (TVAE, dict(embedding_dim=8, compress_dims=(32,), decompress_dims=(32,), batch_size=100, epochs=2,
                        device="cpu")),
}
# The shared fixtures make_customers, make_metadata and parents: tests/unit/conftest.py.
MetadataFactory = Callable[[], Metadata]


@pytest.fixture(scope="module")
def customers(make_customers: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return make_customers()


@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> tuple[type[ConditionalGenerativeModel], dict[str, Any]]:
    return ENGINES[request.param]


@pytest.fixture(scope="module")
def fitted(engine: tuple[type[ConditionalGenerativeModel], dict[str, Any]], customers: pd.DataFrame,
           make_metadata: MetadataFactory) -> ConditionalGenerativeModel:
    cls, params = engine
    return cls(make_metadata(), **params).fit(customers, seed=11, progress_bar=False)


@pytest.fixture(scope="module")
def fitted_with_context(engine: tuple[type[ConditionalGenerativeModel], dict[str, Any]], customers: pd.DataFrame,
                        parents: pd.DataFrame, make_metadata: MetadataFactory) -> ConditionalGenerativeModel:
    cls, params = engine
    return cls(make_metadata(), **params).fit(customers, parents, seed=3, progress_bar=False)


def test_sample_has_the_training_format_and_keeps_the_declared_constraints(
        fitted: ConditionalGenerativeModel, customers: pd.DataFrame) -> None:
    assert fitted.is_fitted
    synthetic = fitted.sample(257, seed=1)
    assert len(synthetic) == 257
    assert list(synthetic.columns) == list(customers.columns)
    assert isinstance(synthetic.index, pd.RangeIndex)
    assert synthetic.dtypes.to_dict() == customers.dtypes.to_dict()
    assert synthetic["customer_id"].is_unique
    assert set(synthetic["city"]) <= set(customers["city"])
    assert set(synthetic["plan"]) <= set(customers["plan"])
    assert synthetic["age"].between(18, 90).all()
    assert synthetic["income"].between(customers["income"].min(), customers["income"].max()).all()
    assert synthetic["city"].nunique() > 1  # categories are sampled, not a constant


def test_conditions_are_on_discrete_columns_only(fitted: ConditionalGenerativeModel) -> None:
    with pytest.raises(GenerationError, match="only discrete columns"):
        fitted.sample(5, conditions={"income": 50_000.0})


def test_context_sampling(fitted_with_context: ConditionalGenerativeModel, parents: pd.DataFrame) -> None:
    ctx = parents.iloc[:40].reset_index(drop=True)
    synthetic = fitted_with_context.sample(40, context=ctx, seed=1)
    assert len(synthetic) == 40
    pd.testing.assert_frame_equal(synthetic, fitted_with_context.sample(40, context=ctx, seed=1))
    other = parents.iloc[40:80].reset_index(drop=True)
    assert not synthetic.equals(fitted_with_context.sample(40, context=other, seed=1))  # context is used
    conditioned = fitted_with_context.sample(40, context=ctx, seed=1, conditions={"plan": "premium"})
    assert len(conditioned) == 40 and (conditioned["plan"] == "premium").all()


def test_context_errors(engine: tuple[type[ConditionalGenerativeModel], dict[str, Any]],
                        fitted_with_context: ConditionalGenerativeModel, fitted: ConditionalGenerativeModel,
                        parents: pd.DataFrame, customers: pd.DataFrame, make_metadata: MetadataFactory) -> None:
    with pytest.raises(GenerationError, match="context has 10 rows but num_rows is 11"):
        fitted_with_context.sample(11, context=parents.iloc[:10])
    with pytest.raises(GenerationError, match="missing column"):
        fitted_with_context.sample(10, context=parents.iloc[:10][["segment"]])
    with pytest.raises(GenerationError, match="without parent context"):
        fitted.sample(10, context=parents.iloc[:10])
    cls, params = engine
    with pytest.raises(TrainingError, match="context has 299 rows but data has 300"):
        cls(make_metadata(), **params).fit(customers, parents.iloc[:-1], progress_bar=False)
