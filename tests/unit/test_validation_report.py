"""ValidationReport: one self-contained HTML file + JSON, escaped, no real rows by default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import ValidationReport

XSS = "<script>alert(1)</script>"


def _tickets(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    priority = rng.choice(["low", "high", XSS], n, p=[0.6, 0.3, 0.1])
    hours = rng.gamma(2, np.where(priority == "high", 2.0, 8.0))
    return pd.DataFrame({
        "ticket_id": [f"SECRET-TICKET-{seed}-{i:05d}" for i in range(n)],
        "priority": priority, "hours": hours, "reopened": rng.random(n) < 0.1,
        "opened": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), "h"),
        "agent_score": hours * 0.5 + rng.normal(0, 1, n),
    })


SDTYPES = {"ticket_id": "id", "priority": "categorical", "hours": "numerical", "reopened": "boolean",
           "opened": "datetime", "agent_score": "numerical"}


@pytest.fixture(scope="module")
def report_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    out = tmp_path_factory.mktemp("report") / "quality.html"
    path = ValidationReport().generate(_tickets(400, 0), _tickets(400, 1), out, holdout=_tickets(400, 2),
                                       target="priority", sdtypes=SDTYPES)
    return path, path.read_text(encoding="utf-8"), json.loads(out.with_suffix(".json").read_text())


def test_files_written_atomically(report_files: tuple[Path, str, dict]) -> None:
    path, html, _ = report_files
    assert path.suffix == ".html" and path.with_suffix(".json").is_file()
    assert sorted(p.name for p in path.parent.iterdir()) == ["quality.html", "quality.json"]  # no temp left
    assert html.startswith("<!DOCTYPE html>")


def test_html_is_self_contained(report_files: tuple[Path, str, dict]) -> None:
    _, html, _ = report_files
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    assert "default-src 'none'" in html
    for heading in ("Overview", "Column shapes", "Distributions", "Correlations", "Privacy"):
        assert f">{heading}<" in html
    assert html.count("<svg") >= 5 + 3  # one plot per scored column + three heatmaps


def test_values_are_escaped(report_files: tuple[Path, str, dict]) -> None:
    _, html, _ = report_files
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_real_rows_by_default(report_files: tuple[Path, str, dict]) -> None:
    _, html, data = report_files
    assert "SECRET-TICKET-0-" not in html and "SECRET-TICKET-0-" not in json.dumps(data)


def test_samples_only_when_asked(tmp_path: Path) -> None:
    real, synthetic = _tickets(60, 0), _tickets(60, 1)
    path = ValidationReport().generate(real, synthetic, tmp_path / "r.html", include_samples=True,
                                       sdtypes=SDTYPES, detection=False, privacy=False)
    html = path.read_text(encoding="utf-8")
    assert "SECRET-TICKET-0-00000" in html and XSS not in html


def test_json_has_the_documented_schema(report_files: tuple[Path, str, dict]) -> None:
    _, _, data = report_files
    assert {"report", "schema_version", "overall", "column_shapes", "column_pair_trends", "detection_auc",
            "ml_efficacy", "privacy", "relational", "tables", "seed", "seconds"} <= set(data)
    assert set(data["report"]) == {"generated_at", "synthohive_version", "title", "html", "reading"}
    assert data["report"]["html"] == "quality.html"
    assert 0.0 <= data["overall"] <= 1.0
    assert data["privacy"]["dcr_share_closer_to_training"] is not None


def test_multi_table_report_has_relational_section(tmp_path: Path) -> None:
    metadata = (Metadata().add_table("agents", pk="agent_id")
                .add_table("tickets", pk="ticket_id", fk={"agent_id": "agents.agent_id"}))
    agents = pd.DataFrame({"agent_id": np.arange(20), "team": np.where(np.arange(20) < 5, "vip", "std")})
    tickets = _tickets(200, 3).assign(agent_id=np.arange(200) % 25)  # ids 20..24 are orphans
    path = ValidationReport().generate({"agents": agents, "tickets": tickets},
                                       {"agents": agents, "tickets": tickets}, tmp_path / "m.html", metadata,
                                       detection=False)
    html = path.read_text(encoding="utf-8")
    assert ">Relational integrity<" in html and "cardinality-plot" in html
    assert "reference a missing parent" in html


def test_json_path_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="must not end in .json"):
        ValidationReport().generate(_tickets(20, 0), _tickets(20, 1), tmp_path / "r.json", sdtypes=SDTYPES)


def test_a_category_held_by_fewer_than_rare_threshold_rows_is_pooled_into_other(tmp_path: Path) -> None:
    from syntho_hive.core.data.text_model import DEFAULT_RARE_THRESHOLD

    real, synthetic = _tickets(400, 0), _tickets(400, 1)
    real["city"] = np.where(np.arange(400) % 2 == 0, "Paris", "Berlin").astype(object)
    real.loc[7, "city"] = "Zzyzx-Unique-City"  # one real row
    real.loc[8:8 + DEFAULT_RARE_THRESHOLD - 1, "city"] = "Lyon-Frequent-Enough"
    synthetic["city"] = real["city"].to_numpy()  # a synthesizer that reproduced it
    path = ValidationReport().generate(real, synthetic, tmp_path / "r.html", sdtypes={**SDTYPES, "city": "categorical"},
                                       detection=False, privacy=False)
    html = path.read_text(encoding="utf-8")
    assert "Zzyzx-Unique-City" not in html
    assert "Lyon-Frequent-Enough" in html and "(other)" in html


def test_the_differential_privacy_key_is_documented_field_by_field(tmp_path: Path) -> None:
    spent = {"epsilon": 3.9, "delta": 1e-5, "max_epsilon": 4.0, "max_delta": 1e-5, "accountant": "basic",
             "tables": {"t": {"epsilon": 3.9, "delta": 1e-5, "budget_epsilon": 4.0, "budget_delta": 1e-5,
                              "model": {"epsilon": 3.0, "delta": 1e-5, "max_epsilon": 3.1, "epsilon_preprocessing": 1.0,
                                        "epsilon_training": 2.5, "preprocessing_queries": 4,
                                        "preprocessing_noise": 6.0, "noise_multiplier": 1.1, "max_grad_norm": 1.0,
                                        "sample_rate": 0.1, "steps": 18, "epochs": 1.8, "accountant": "rdp"},
                              "links": {"epsilon": 0.9, "delta": 1e-6, "noise": 2.0, "links": 1,
                                        "sensitivity_sq": 1.0}}}}
    path = ValidationReport().generate(_tickets(60, 0), _tickets(60, 1), tmp_path / "r.html", sdtypes=SDTYPES,
                                       detection=False, privacy=False, differential_privacy=spent)
    written = json.loads(path.with_suffix(".json").read_text())["differential_privacy"]
    schema = (Path(__file__).parents[2] / "docs" / "report_schema.md").read_text(encoding="utf-8")
    section = schema.split("## `differential_privacy`", 1)[1].split("\n## ", 1)[0] if "## `differential_privacy`" \
        in schema else ""
    table = written["tables"]["t"]
    for key in [*written, *table, *table["model"], *table["links"]]:
        assert f"`{key}`" in section, key
    assert "| `differential_privacy` |" in schema  # listed among the top-level keys
