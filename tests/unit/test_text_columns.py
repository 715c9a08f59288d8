"""CTGAN and TVAE generate ``text`` columns (names, emails) word by word: never a training value,
and no training value in any checkpoint file (the ``.joblib`` pickles included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import CTGAN, TVAE
from syntho_hive.exceptions import TrainingError

MODELS = {
    "ctgan": (CTGAN, dict(embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32, 32), batch_size=100,
                          epochs=2, max_modes=3, device="cpu")),
    "tvae": (TVAE, dict(embedding_dim=8, compress_dims=(32,), decompress_dims=(32,), batch_size=100, epochs=2,
                        device="cpu")),
}
FIRST_NAMES = ["Anna", "Ben", "Carla", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas"]
SYLLABLES = ["kor", "van", "del", "mi", "tra", "zu", "bel", "ost", "rin", "ga", "lek", "pho", "dru", "nal"]


def _made_up(rng: np.random.Generator, n: int, parts: int, taken: set[str]) -> list[str]:
    """``n`` distinct made-up words of ``parts`` syllables, none in ``taken`` (which is updated)."""
    out: list[str] = []
    while len(out) < n:
        word = "".join(rng.choice(SYLLABLES, parts)).title()
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def make_tables(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers (common first names + made-up surnames, emails, ~10% missing names) and, per row,
    the parent company (made-up names ending in a frequent "GmbH"/"AG") as context."""
    rng = np.random.default_rng(seed)
    taken: set[str] = set()
    surnames = _made_up(rng, n, 3, taken)
    first = rng.choice(FIRST_NAMES, n)
    full = [f"{f} {s}" for f, s in zip(first, surnames)]
    customers = pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "full_name": [None if m else v for v, m in zip(full, rng.random(n) < 0.1)],
        "email": [f"{f.lower()}.{s.lower()}@example.org" for f, s in zip(first, surnames)],
        "age": rng.integers(18, 80, n),
        "plan": rng.choice(["basic", "premium"], n, p=[0.7, 0.3]),
    })
    companies = [f"{w} {rng.choice(['GmbH', 'AG'])}" for w in _made_up(rng, n, 3, taken)]
    parents = pd.DataFrame({"company": companies, "employees": rng.integers(1, 500, n)})
    return customers, parents


def _metadata() -> Metadata:
    return Metadata().add_table(
        "customers", pk="customer_id",
        columns={"customer_id": "id", "full_name": "text", "email": "text", "age": "numerical",
                 "plan": "categorical"})


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_tables()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_text_is_never_copied_nor_stored(name: str, tables: tuple[pd.DataFrame, pd.DataFrame],
                                         tmp_path: Path) -> None:
    customers, parents = tables
    cls, params = MODELS[name]
    model = cls(_metadata(), **params).fit(customers, parents, seed=5, progress_bar=False,
                                           checkpoint_dir=tmp_path / "training")
    context = make_tables(400, seed=9)[1]
    synthetic = model.sample(400, context=context, seed=3)
    assert synthetic.dtypes.to_dict() == customers.dtypes.to_dict()
    # Zero exact copies of a name or an email: the surnames are made up, so never frequent words.
    for column in ("full_name", "email"):
        assert not set(synthetic[column].dropna()) & set(customers[column].dropna()), column
    assert abs(synthetic["full_name"].isna().mean() - customers["full_name"].isna().mean()) < 0.06
    assert synthetic["email"].notna().all()
    assert synthetic["full_name"].dropna().str.split().str[0].isin(FIRST_NAMES).mean() > 0.9  # frequent words kept
    # Bit-identical for a seed, also after a save/load round trip.
    saved = model.save(tmp_path / "saved")
    pd.testing.assert_frame_equal(model.sample(400, context=context, seed=3), synthetic)
    pd.testing.assert_frame_equal(cls().load(saved).sample(400, context=context, seed=3), synthetic)
    # No distinctive training value (surname, email, company name) in any file, pickles read as bytes.
    secrets = [*customers["full_name"].dropna().str.split().str[1], *customers["email"],
               *parents["company"].str.split().str[0]]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".joblib" for p in files) and len({p.parent for p in files}) >= 3
    for path in files:
        content = path.read_bytes()
        leaked = [s for s in secrets if s.encode() in content or s.lower().encode() in content]
        assert not leaked, (path.relative_to(tmp_path), leaked[:3])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_table_of_ids_and_text_only_points_to_tabular_ar_or_the_synthesizer(
        name: str, tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lookup = tables[0][["customer_id", "full_name"]]
    cls, params = MODELS[name]
    metadata = Metadata().add_table("people", pk="customer_id", columns={"customer_id": "id", "full_name": "text"},
                                    semantic_types={"full_name": None})  # word models, not Faker names
    with pytest.raises(TrainingError,
                       match="every column is an id, text or a single repeated value.*TabularAR.*inside a Synthesizer"):
        cls(metadata, **params).fit(lookup, seed=0, progress_bar=False)


def test_a_text_only_table_in_a_synthesizer_follows_its_rare_threshold(tables: tuple[pd.DataFrame,
                                                                                     pd.DataFrame]) -> None:
    """A table of ids and text gets word models and no network; the synthesizer's ``rare_threshold``
    (the privacy setting) decides which words they keep, as for TabularAR's own text columns."""
    from syntho_hive.interface.synthesizer import Synthesizer

    people = tables[0][["customer_id", "full_name"]]
    metadata = Metadata().add_table("people", pk="customer_id", columns={"customer_id": "id", "full_name": "text"},
                                    semantic_types={"full_name": None})  # word models, not Faker names
    first_words = {}
    for threshold in (5, 1_000):
        synth = Synthesizer(metadata, seed=2, epochs=1, rare_threshold=threshold)
        synthetic = synth.fit({"people": people}, progress_bar=False).sample(seed=1)["people"]
        assert synthetic["customer_id"].is_unique and len(synthetic) == len(people)
        first_words[threshold] = synthetic["full_name"].dropna().str.split().str[0]
    assert first_words[5].isin(FIRST_NAMES).mean() > 0.9  # ~24 uses each: kept
    assert not first_words[1_000].isin(FIRST_NAMES).any()  # under the threshold: made up


def test_a_category_text_column_stays_category_when_rows_are_resampled(tables: tuple[pd.DataFrame,
                                                                                    pd.DataFrame]) -> None:
    """Each generation round draws its own text values (its own categories); stacking rounds, as a
    conditioned sample does, must not turn the column into ``object``."""
    from syntho_hive.core.models import CTGAN

    customers = tables[0].assign(full_name=tables[0]["full_name"].astype("category"))
    model = CTGAN(_metadata(), epochs=1, batch_size=40, embedding_dim=8, generator_dim=(16,),
                  discriminator_dim=(16,), pac=4).fit(customers, seed=0, progress_bar=False)
    for conditions in (None, {"plan": "premium"}):
        synthetic = model.sample(100, seed=1, conditions=conditions)
        assert isinstance(synthetic["full_name"].dtype, pd.CategoricalDtype), conditions
        assert set(synthetic["full_name"].cat.categories) >= set(synthetic["full_name"].dropna())
