"""Date-time strings with a UTC offset (as ``DataFrame.to_csv`` writes tz-aware columns): detected, modelled
and written back in the same textual form, through the CLI and the Python API."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata.datetime_formats import detect_datetime_format, formats_exactly
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.interface.cli import main
from syntho_hive.interface.files import read_csv

ROWS = 40
_HOURS = pd.date_range("2021-01-01", periods=ROWS, freq="h")
#: Each form: the training strings and the offset every generated value must end in.
FORMS = {
    "utc": ([f"{t:%Y-%m-%d %H:%M:%S}+00:00" for t in _HOURS], "+00:00"),
    "minus5": ([f"{t:%Y-%m-%d %H:%M:%S}-05:00" for t in _HOURS], "-05:00"),
    "mixed": ([f"{t:%Y-%m-%d %H:%M:%S}{'+01:00' if i % 2 else '-05:00'}" for i, t in enumerate(_HOURS)], "+00:00"),
    # UTC written Z among +HH:MM offsets: several offsets (UTC instants), as "mixed"
    "zulu": ([f"{t:%Y-%m-%d %H:%M:%S}{'+02:00' if i % 2 else 'Z'}" for i, t in enumerate(_HOURS)], "+00:00"),
}
_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def _write(folder: Path, form: str) -> Path:
    path = folder / f"{form}.csv"
    pd.DataFrame({"ts": FORMS[form][0], "x": range(ROWS)}).to_csv(path, index=False)
    return path


def _assert_same_form(written: Path, form: str) -> None:
    values = pd.read_csv(written, dtype=str)["ts"]
    assert len(values) and values.notna().all()
    assert values.map(lambda v: bool(_SHAPE.fullmatch(v))).all(), values.head().tolist()
    assert (values.str[-6:] == FORMS[form][1]).all(), values.head().tolist()
    instants = pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S%z", utc=True)
    real = pd.to_datetime(pd.Series(FORMS[form][0]), format="%Y-%m-%d %H:%M:%S%z", utc=True)
    assert instants.between(real.min(), real.max()).all()


def test_detected_formats() -> None:
    assert detect_datetime_format(pd.Series(FORMS["minus5"][0])) == "%Y-%m-%d %H:%M:%S-05:00"
    assert formats_exactly(pd.Series(FORMS["minus5"][0]), "%Y-%m-%d %H:%M:%S-05:00")
    assert detect_datetime_format(pd.Series(FORMS["mixed"][0])) == "%Y-%m-%d %H:%M:%S%:z"
    assert detect_datetime_format(pd.Series(["2021-01-01T10:00:00Z", "2021-01-02T11:00:00+02:00"])) \
        == "%Y-%m-%dT%H:%M:%S%:z"
    iso = pd.Series(["2021-01-01T00:00:00.250000+01:00", "2021-01-02T00:00:00.500000+01:00"])
    assert detect_datetime_format(iso) == "%Y-%m-%dT%H:%M:%S.%f+01:00"


@pytest.mark.parametrize("engine", ["tabular_ar", "ctgan", "tvae"])
@pytest.mark.parametrize("form", list(FORMS))
def test_cli_fit_and_sample_keep_the_offset_form(engine: str, form: str, tmp_path: Path) -> None:
    data = _write(tmp_path, form)
    device = ["--device", "cpu"] if engine != "tabular_ar" else []
    assert main(["fit", str(data), "--model", engine, "--epochs", "1", "--batch-size", "20", *device,
                 "--seed", "3", "--output", str(tmp_path / "model"), "--no-progress"]) == 0
    assert main(["sample", str(tmp_path / "model"), "--rows", "30", "--output", str(tmp_path / "out.csv"),
                 "--seed", "1"]) == 0
    _assert_same_form(tmp_path / "out.csv", form)


@pytest.mark.parametrize("form", ["minus5", "mixed", "zulu"])
def test_python_api_fit_on_a_csv_path_keeps_the_offset_form(form: str, tmp_path: Path) -> None:
    data = _write(tmp_path, form)
    metadata = Metadata.detect(read_csv(data), table_name="events")
    assert metadata.tables["events"].columns["ts"] == "datetime"
    synth = Synthesizer(metadata, model=TabularAR, seed=0).fit({"events": data}, epochs=1, progress_bar=False,
                                                               n_jobs=1)
    frame = synth.sample(num_rows={"events": 30}, seed=1)["events"]
    assert (frame["ts"].str[-6:] == FORMS[form][1]).all()
    synth.sample(num_rows={"events": 30}, seed=1, output_path=tmp_path / "out", output_format="csv")
    _assert_same_form(tmp_path / "out" / "events.csv", form)


@pytest.mark.parametrize("engine", ["TabularAR", "CTGAN", "TVAE"])
def test_a_declared_z_format_over_several_offsets_is_refused_naming_the_format_that_reads_them(engine: str) -> None:
    import syntho_hive.core.models as models
    from syntho_hive.exceptions import SynthoHiveError

    frame = pd.DataFrame({"ts": FORMS["mixed"][0], "x": range(ROWS)})
    metadata = Metadata.detect({"t": frame})
    metadata.tables["t"].datetime_formats = {"ts": "%Y-%m-%d %H:%M:%S%z"}
    with pytest.raises(SynthoHiveError, match=re.escape("declare '%Y-%m-%d %H:%M:%S%:z'")):
        getattr(models, engine)(metadata, epochs=1, batch_size=20).fit(frame, table_name="t", seed=0,
                                                                        progress_bar=False)
    metadata.tables["t"].datetime_formats = {"ts": "%Y-%m-%d %H:%M:%S%:z"}  # the advised format fits
    model = getattr(models, engine)(metadata, epochs=1, batch_size=20).fit(frame, table_name="t", seed=0,
                                                                           progress_bar=False)
    assert model.sample(10, seed=1)["ts"].str.endswith("+00:00").all()


def test_dates_without_a_time_over_several_offsets_are_not_read_as_utc_instants() -> None:
    # As UTC instants 2021-01-01+01:00 is 2020-12-31: no format is detected (one shared offset still is).
    assert detect_datetime_format(pd.Series(["2021-01-01+01:00", "2021-01-02+02:00"])) is None
    assert detect_datetime_format(pd.Series(["2021-01-01Z", "2021-01-02+02:00"])) is None
    assert detect_datetime_format(pd.Series(["2021-01-01+01:00", "2021-01-02+01:00"])) == "%Y-%m-%d+01:00"
    assert detect_datetime_format(pd.Series(["2021-01-01 10:00:00+01:00", "2021-01-02 11:00:00+02:00"])) \
        == "%Y-%m-%d %H:%M:%S%:z"


@pytest.mark.parametrize("engine", ["TabularAR", "CTGAN", "TVAE"])
def test_a_declared_z_format_over_colon_offsets_is_refused_naming_the_formats_that_keep_them(engine: str) -> None:
    """'%z' over '+05:30' values wrote '+0530' (TabularAR; CTGAN and TVAE wrote no offset): the text changed form.
    It is refused now, naming the format ending in the offset itself, whose values come back as they were."""
    import syntho_hive.core.models as models
    from syntho_hive.exceptions import SynthoHiveError

    frame = pd.DataFrame({"ts": [f"{t:%Y-%m-%d %H:%M:%S}+05:30" for t in _HOURS], "x": range(ROWS)})
    metadata = Metadata.detect({"t": frame})
    metadata.tables["t"].datetime_formats = {"ts": "%Y-%m-%d %H:%M:%S%z"}
    with pytest.raises(SynthoHiveError, match=re.escape("declare '%Y-%m-%d %H:%M:%S+05:30'") + ".*"
                       + re.escape("'%Y-%m-%d %H:%M:%S%:z'")):
        getattr(models, engine)(metadata, epochs=1, batch_size=20).fit(frame, table_name="t", seed=0,
                                                                        progress_bar=False)
    metadata.tables["t"].datetime_formats = {"ts": "%Y-%m-%d %H:%M:%S+05:30"}  # the advised format keeps them
    model = getattr(models, engine)(metadata, epochs=1, batch_size=20).fit(frame, table_name="t", seed=0,
                                                                           progress_bar=False)
    out = model.sample(20, seed=1)["ts"]
    assert out.map(lambda v: bool(_SHAPE.fullmatch(v))).all() and out.str.endswith("+05:30").all(), out.tolist()


@pytest.mark.parametrize("engine", ["TabularAR", "CTGAN", "TVAE"])
def test_a_declared_z_format_over_one_offset_writes_it_back_with_the_same_wall_clock_times(
        engine: str, tmp_path: Path) -> None:
    """'%z' over '+0530' values: CTGAN and TVAE wrote the UTC times without any offset ('2021-03-01 04:30:00' for
    '2021-03-01 10:00:00+0530'). Every engine now writes them in the format with the offset they were read with."""
    import syntho_hive.core.models as models

    fmt = "%Y-%m-%d %H:%M:%S%z"
    frame = pd.DataFrame({"ts": [f"{t:%Y-%m-%d %H:%M:%S}+0530" for t in _HOURS], "x": range(ROWS)})
    metadata = Metadata.detect({"t": frame})
    metadata.tables["t"].datetime_formats = {"ts": fmt}
    model = getattr(models, engine)(metadata, epochs=1, batch_size=20).fit(frame, table_name="t", seed=0,
                                                                           progress_bar=False)
    loaded = getattr(models, engine)(metadata).load(model.save(tmp_path / "model"))
    real = pd.to_datetime(frame["ts"], format=fmt)
    for out in (model.sample(60, seed=1)["ts"], loaded.sample(60, seed=1)["ts"]):
        assert out.str.endswith("+0530").all(), out.tolist()[:5]
        stamps = pd.to_datetime(out, format=fmt)  # raises unless every value has the declared format
        assert str(stamps.dt.tz) == "UTC+05:30"
        assert stamps.between(real.min(), real.max()).all(), out.tolist()[:5]


@pytest.mark.parametrize("engine", ["TabularAR", "CTGAN", "TVAE"])
def test_a_declared_z_format_over_several_offsets_without_a_colon_is_refused(engine: str) -> None:
    import syntho_hive.core.models as models
    from syntho_hive.exceptions import SynthoHiveError

    offsets = ["+0530", "-0100"]
    frame = pd.DataFrame({"ts": [f"{t:%Y-%m-%d %H:%M:%S}{offsets[i % 2]}" for i, t in enumerate(_HOURS)],
                          "x": range(ROWS)})
    metadata = Metadata.detect({"t": frame})
    metadata.tables["t"].datetime_formats = {"ts": "%Y-%m-%d %H:%M:%S%z"}
    with pytest.raises(SynthoHiveError, match=re.escape("declare '%Y-%m-%d %H:%M:%S%:z'")):
        getattr(models, engine)(metadata, epochs=1, batch_size=20).fit(frame, table_name="t", seed=0,
                                                                        progress_bar=False)
