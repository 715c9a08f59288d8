"""Self-contained HTML + JSON validation report: :class:`ValidationReport`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from syntho_hive.core._json_state import plain_json
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.events import get_logger
from syntho_hive._atomic import atomic_write_text
from syntho_hive.exceptions import SchemaError, SerializationError
from syntho_hive.validation.evaluate import QualityResult, evaluate
from syntho_hive.validation.report.html import plain_reading, render_html

__all__ = ["ValidationReport", "write_atomic"]

_log = get_logger(__name__)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    Raises:
        SerializationError: If the folder does not exist or cannot be written.
    """
    directory = path.parent
    if not directory.is_dir():
        raise SerializationError(f"Cannot write report {path}: folder {directory} does not exist; create it first.")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise SerializationError(f"Cannot write report {path}: {exc}. Check the path and permissions.") from exc


def _tables(data: pd.DataFrame | Mapping[str, pd.DataFrame], result: QualityResult) -> dict[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return {next(iter(result.tables)): data}
    return dict(data)


class ValidationReport:
    """Build the validation report: one self-contained HTML page and a JSON file with the same numbers.

    Example:
        >>> ValidationReport().generate(real_df, synthetic_df, "report.html")  # doctest: +SKIP
        PosixPath('report.html')
    """

    def __init__(self, *, title: str = "SynthoHive validation report") -> None:
        self.title = title
        self.result: QualityResult | None = None

    def generate(self, real_data: pd.DataFrame | Mapping[str, pd.DataFrame],
                 synth_data: pd.DataFrame | Mapping[str, pd.DataFrame], output_path: str | os.PathLike[str],
                 metadata: Metadata | None = None, *, include_samples: bool = False,
                 holdout: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
                 target: str | Mapping[str, str] | None = None, seed: int | None = 0,
                 result: QualityResult | None = None, differential_privacy: Mapping[str, Any] | None = None,
                 **evaluate_options: Any) -> Path:
        """Evaluate (unless ``result`` is given) and write ``output_path`` (HTML) plus a ``.json`` beside it.

        Args:
            real_data: Real table or ``{table: DataFrame}``.
            synth_data: Synthetic data of the same shape.
            output_path: HTML file to write (the JSON goes to the same path with suffix ``.json``).
            metadata: Schema (sdtypes, keys, foreign keys).
            include_samples: Include the first rows of each real and synthetic table. Off by default
                so the report can be shared without disclosing real records.
            holdout: Real rows the generator did not see (DCR share, efficacy test set).
            target: ML-efficacy target column (or ``{table: column}``).
            seed: Seed for every sample.
            result: A precomputed :func:`evaluate` result for these data.
            differential_privacy: The privacy a synthesizer fitted under DP spent
                (``Synthesizer.privacy_spent_.to_dict()``): shown in its own section and kept in the JSON
                under ``differential_privacy``.
            **evaluate_options: Passed to :func:`evaluate` (``detection``, ``efficacy``, ``privacy``, ...).

        Returns:
            The path of the HTML file.

        Raises:
            SchemaError: If the data do not match (see :func:`evaluate`) or the output path ends in ``.json``.
            SerializationError: If a file cannot be written.
        """
        html_path = Path(output_path)
        json_path = html_path.with_suffix(".json")
        if json_path == html_path:
            raise SchemaError(f"Report path {html_path} must not end in .json; the JSON is written beside the "
                              "HTML file (e.g. report.html -> report.json).")
        if result is None:
            result = evaluate(real_data, synth_data, metadata, holdout, target=target, seed=seed, **evaluate_options)
        self.result = result
        from syntho_hive._version import __version__

        generated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        real_tables, synth_tables = _tables(real_data, result), _tables(synth_data, result)
        html_text = render_html(result, real_tables, synth_tables, include_samples=include_samples,
                                title=self.title, generated_at=generated_at, version=str(__version__),
                                differential_privacy=differential_privacy)
        payload = {"report": {"generated_at": generated_at, "synthohive_version": str(__version__),
                              "title": self.title, "html": html_path.name, "reading": plain_reading(result)},
                   **result.to_dict()}
        if differential_privacy is not None:
            payload["differential_privacy"] = dict(differential_privacy)
        write_atomic(json_path, json.dumps(plain_json(payload, finite=True), indent=2, allow_nan=False))
        write_atomic(html_path, html_text)
        _log.info("report_written", html=str(html_path), json=str(json_path), overall=round(result.overall, 4))
        return html_path
