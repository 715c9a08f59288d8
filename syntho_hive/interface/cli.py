"""The ``synthohive`` command line: ``fit``, ``sample``, ``report`` and ``demo``.

Usage::

    synthohive fit DATA.csv|DATA.parquet --output CHECKPOINT_DIR [--metadata META.yaml|.json]
        [--table NAME] [--model tabular_ar|ctgan|tvae] [--epochs N] [--batch-size N] [--device D] [--seed N]
        [--overwrite] [--no-progress]
    synthohive fit --source URL|DIR [--schema S] [--tables A,B] [--metadata META.yaml]
        [--subset-root TABLE (--subset-rows N | --subset-fraction F) [--subset-seed N]]
        [--skip-foreign-key "CHILD(COL, ...) -> PARENT" ...] [--on-integrity-error raise|drop]
        [--model tabular_ar|ctgan|tvae] --output SYNTHESIZER_DIR [--epochs N] [--seed N] [--overwrite]
    synthohive sample CHECKPOINT_DIR --rows N --output OUT.csv|OUT.parquet [--seed N] [--overwrite]
    synthohive sample SYNTHESIZER_DIR --target URL|DIR [--schema S] [--if-exists fail|replace|append]
        [--format parquet|csv|delta] [--scale X] [--seed N]
    synthohive report REAL.csv|.parquet SYNTH.csv|.parquet --output REPORT.html [--metadata META.yaml]
        [--table NAME] [--target COLUMN] [--holdout HOLDOUT.csv] [--sensitive COLUMN ...]
        [--quasi-identifier COLUMN ...] [--pii COLUMN ...] [--include-samples] [--seed N] [--overwrite]
    synthohive demo [--output-dir DIR] [--model tabular_ar|ctgan|tvae] [--epochs N] [--rows N] [--seed N]
        [--overwrite]
    synthohive --version

Every command accepts ``--help``. Errors print one ``error: ...`` line to stderr and exit with
status 2 (bad command-line usage: an unknown or malformed option, options that do not go together or
one the command needs, an output name of unknown format, a malformed database URL) or 1 (anything
else: bad input file, metadata that does not match the data, an existing output without
``--overwrite``, failed training, broken checkpoint); ``--debug`` adds the traceback and every
library event. An unexpected exception (a
bug in SynthoHive or a failure inside a dependency) prints one ``error: internal error (...)`` line
and exits with status 3; ``--debug`` shows its traceback too.

This module is the only place in SynthoHive that writes to stdout: the library itself reports
through structlog events and tqdm progress bars (on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import logging
import re
import sys
import textwrap
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import structlog

from syntho_hive._version import __version__
from syntho_hive._atomic import atomic_write
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SynthoHiveError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from syntho_hive.core.models.base import ConditionalGenerativeModel
    from syntho_hive.validation.evaluate import QualityResult
    from syntho_hive.validation.privacy import PrivacyResult

__all__ = ["main", "build_parser", "CLIInputError", "CLIUsageError", "ENGINES", "DEMO_EPOCHS",
           "DEMO_HOLDOUT_FRACTION"]

PROG = "synthohive"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

#: The engines ``--model`` names, and their registered class names.
ENGINES = {"tabular_ar": "TabularAR", "ctgan": "CTGAN", "tvae": "TVAE"}
_DEVICE_ENGINES = ("ctgan", "tvae")  # the engines with a torch ``device`` (TabularAR runs on the CPU)

#: Demo defaults: epochs per engine (an engine not named, TabularAR, trains its own default number, 100
#: at most: it stops on a validation plateau after about 35 here; the whole demo takes about 20 s on 2
#: idle CPU cores, as it did with CTGAN's 40 epochs), the share of the bundled rows held out for the
#: report, its target, the seed.
DEMO_EPOCHS = {"ctgan": 40, "tvae": 40}
DEMO_HOLDOUT_FRACTION = 0.2
DEMO_TARGET = "income"
DEMO_SEED = 42

_log = get_logger(__name__)

#: Exceptions a command raises for the user's input or environment: one line, status 1.
_USER_ERRORS = (SynthoHiveError, OSError, ValueError)



class CLIInputError(SynthoHiveError, ValueError):
    """A command-line argument names a file or value the command cannot use."""


class CLIUsageError(CLIInputError):
    """Command-line options that do not go together (exit status 2, like an argument-parser error)."""


class _UsageError(Exception):
    """Raised by the argument parser instead of exiting, so ``main`` controls the output."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one ``error: ...`` line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- parser


def _integer(minimum: int, expected: str) -> Callable[[str], int]:
    """An argument type: an integer >= ``minimum`` (``expected`` says what is wanted in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return parse


_positive_int = _integer(1, "a positive integer")
_seed = _integer(0, "a non-negative integer seed")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the ``synthohive`` argument parser (exposed for documentation and tests).

    Returns:
        The top-level parser with the ``fit``, ``sample``, ``report`` and ``demo`` sub-commands.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on error, show the full traceback; show every library event")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show the library's informational events (training progress, saves)")

    parser = _Parser(
        prog=PROG,
        description="SynthoHive: learn a table, save the model, and generate synthetic rows.",
        epilog="Run 'synthohive COMMAND --help' for a command's options.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    fit = commands.add_parser(
        "fit", parents=[common], help="train on a table file or a whole database/folder (--source)",
        description=("Train a model (--model: TabularAR by default, CTGAN or TVAE) on one table (CSV or Parquet) "
                     "and save it as a checkpoint directory (no business rules: names, e-mails, phones come back as "
                     "text the model makes up); or, with --source, learn every table of a database or folder (schema "
                     "reflected, keys included) with a Synthesizer, which finds, prints and keeps the business "
                     "rules (realistic names, e-mails, phones, addresses, copied columns, dependencies), and save "
                     "its directory (a folder holding one file gives a one-table Synthesizer)."),
    )
    fit.add_argument("data", metavar="DATA", type=Path, nargs="?",
                     help="training table: .csv[.gz], .parquet or a Parquet dataset directory (or use --source)")
    fit.add_argument("--output", "-o", required=True, type=Path, metavar="CHECKPOINT_DIR",
                     help="checkpoint directory (or, with --source, Synthesizer directory) to write")
    fit.add_argument("--source", metavar="URL|DIR",
                     help="a database URL (postgresql+psycopg://, mysql+pymysql://, sqlite:///, duckdb:///) or a "
                          "folder of Parquet/CSV/Delta tables: learn the whole schema")
    fit.add_argument("--schema", metavar="S", help="database schema of --source (default: the default one)")
    fit.add_argument("--source-format", choices=("parquet", "csv", "delta"),
                     help="format of a --source folder's tables (default: told from the folder)")
    fit.add_argument("--tables", metavar="A,B", help="with --source: only these tables (comma-separated)")
    fit.add_argument("--subset-root", metavar="TABLE",
                     help="with --source: train on a key-closed subset drawn from this root table")
    fit.add_argument("--subset-rows", type=_positive_int, metavar="N", help="root rows of the subset")
    fit.add_argument("--subset-fraction", type=_fraction, metavar="F", help="share (0-1] of root rows of the subset")
    fit.add_argument("--subset-seed", type=_seed, metavar="N", default=None,
                     help="seed of the subset's draw (default: 0)")
    fit.add_argument("--skip-foreign-key", action="append", metavar="FK", dest="skip_foreign_keys",
                     help="with a --source database: leave this foreign key out of the reflected schema, "
                          "e.g. 'flights(origin, time_hour) -> weather' (for a column in two foreign keys); "
                          "repeatable")
    fit.add_argument("--on-integrity-error", choices=("raise", "drop"), default=None,
                     help="with --source: on orphan foreign keys or duplicate primary keys, stop (raise) or "
                          "drop those rows, listed after training (default: raise)")
    fit.add_argument("--model", choices=tuple(ENGINES), default="tabular_ar",
                     help="the engine (with --source: of every table; default: tabular_ar)")
    fit.add_argument("--metadata", "-m", type=Path, metavar="FILE",
                     help="metadata file (.yaml, .yml or .json); detected from the data when omitted")
    fit.add_argument("--table", metavar="NAME",
                     help="table of the metadata to train (needed when the metadata has several)")
    fit.add_argument("--epochs", type=_positive_int, metavar="N", default=None,
                     help="training epochs (default: the engine's: at most 100 for tabular_ar, which stops "
                          "early on a validation plateau; 300 for ctgan and tvae)")
    fit.add_argument("--batch-size", type=_positive_int, metavar="N", default=None,
                     help="training batch size (default: the engine's: about a tenth of the rows for tabular_ar, "
                          "500 for ctgan and tvae; ctgan's must be a multiple of its PacGAN pac=10)")
    fit.add_argument("--seed", type=_seed, metavar="N", default=None,
                     help="seed for bit-identical training (default: random)")
    fit.add_argument("--device", default="auto",
                     help="torch device of --model ctgan or tvae: auto, cpu, cuda, ... (default: auto; "
                          "tabular_ar runs on the CPU)")
    fit.add_argument("--overwrite", action="store_true",
                     help="replace CHECKPOINT_DIR if it exists (atomically)")
    fit.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    fit.set_defaults(handler=_cmd_fit)

    sample = commands.add_parser(
        "sample", parents=[common], help="generate rows from a saved checkpoint or Synthesizer",
        description=("Load a model checkpoint directory and write synthetic rows to CSV or Parquet (--rows, "
                     "--output); or load a Synthesizer directory (written by 'fit --source') and write every "
                     "table to a database or folder (--target)."),
    )
    sample.add_argument("checkpoint", metavar="CHECKPOINT", type=Path, help="checkpoint or Synthesizer directory")
    sample.add_argument("--rows", "-n", type=_positive_int, metavar="N", help="number of rows (model checkpoint)")
    sample.add_argument("--output", "-o", type=Path, metavar="FILE",
                        help="output file: .csv[.gz] or .parquet (model checkpoint)")
    sample.add_argument("--target", metavar="URL|DIR",
                        help="Synthesizer: a database URL or folder to write every synthetic table to")
    sample.add_argument("--schema", metavar="S", help="database schema of --target (default: the default one)")
    sample.add_argument("--format", dest="target_format", choices=("parquet", "csv", "delta"), default=None,
                        help="format of a --target folder's tables (default: that of the tables the folder holds, "
                             "else parquet)")
    sample.add_argument("--if-exists", choices=("fail", "replace", "append"), default=None,
                        help="a --target table that exists: fail (default), replace or append")
    sample.add_argument("--scale", type=_positive_float, metavar="X", default=None,
                        help="Synthesizer: root tables' size as a multiple of the real ones (default: 1.0)")
    sample.add_argument("--seed", type=_seed, metavar="N", default=None,
                        help="seed for reproducible rows (default: random)")
    sample.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    sample.set_defaults(handler=_cmd_sample)

    report = commands.add_parser(
        "report", parents=[common], help="score synthetic data against real data; write an HTML + JSON report",
        description=(
            "Measure how faithful, useful and private SYNTH is with respect to REAL (column shapes, column "
            "pair trends, detection AUC, ML efficacy with --target, privacy) and write a self-contained "
            "HTML report plus a JSON file with the same numbers beside it (REPORT.json). Real rows are "
            "left out of the report unless --include-samples is given."
        ),
    )
    report.add_argument("real", metavar="REAL", type=Path, help="real table: .csv[.gz], .parquet or a Parquet directory")
    report.add_argument("synthetic", metavar="SYNTH", type=Path, help="synthetic table: .csv[.gz], .parquet or a Parquet directory")
    report.add_argument("--output", "-o", required=True, type=Path, metavar="REPORT.html",
                        help="HTML report to write (the JSON goes beside it, with suffix .json)")
    report.add_argument("--metadata", "-m", type=Path, metavar="FILE",
                        help="metadata file (.yaml, .yml or .json); sdtypes are detected when omitted")
    report.add_argument("--table", metavar="NAME",
                        help="table of the metadata that REAL describes (needed when it has several)")
    report.add_argument("--target", metavar="COLUMN",
                        help="column to predict for the ML-efficacy score (skipped when omitted)")
    report.add_argument("--holdout", type=Path, metavar="FILE",
                        help="real rows the generator never saw (.csv/.parquet): enables the DCR share "
                             "and an unbiased ML-efficacy test set")
    report.add_argument("--sensitive", action="append", metavar="COLUMN",
                        help="a column an attacker would try to infer (repeat for several): runs the "
                             "attribute-inference attack (its risk needs --holdout)")
    report.add_argument("--quasi-identifier", action="append", metavar="COLUMN", dest="quasi_identifiers",
                        help="a column the attacker knows (repeat; default: every other usable column)")
    report.add_argument("--pii", action="append", metavar="COLUMN",
                        help="a column holding personal data whose real values must not reappear (repeat; "
                             "default: the metadata's pii_cols and personal semantic types)")
    report.add_argument("--include-samples", action="store_true",
                        help="include the first real and synthetic rows in the report (off: no real row is shown)")
    report.add_argument("--seed", type=_seed, metavar="N", default=0,
                        help="seed for the metrics' samples and models (default: 0)")
    report.add_argument("--overwrite", action="store_true", help="replace REPORT.html / REPORT.json if they exist")
    report.set_defaults(handler=_cmd_report)

    demo = commands.add_parser(
        "demo", parents=[common],
        help="train on the bundled UCI Adult sample, save, reload, sample and score",
        description=(
            "End-to-end demo on the bundled 5,000-row sample of the UCI Adult table (CC BY 4.0): "
            f"hold out {DEMO_HOLDOUT_FRACTION:.0%} of the rows (seeded), train the model (TabularAR unless "
            "--model says otherwise) on the rest, save it to DIR/checkpoint, load it back, sample, write "
            "DIR/synthetic.csv, and write the validation report (what 'synthohive report' writes: "
            f"DIR/report.html and DIR/report.json) scored against the held-out rows, with {DEMO_TARGET!r} as "
            "the ML-efficacy target; print its headline figures."
        ),
    )
    demo.add_argument("--output-dir", type=Path, default=Path("demo_output"), metavar="DIR",
                      help="where to write the checkpoint, synthetic.csv and report.html/.json "
                           "(default: demo_output)")
    demo.add_argument("--model", choices=tuple(ENGINES), default="tabular_ar",
                      help="the engine (default: tabular_ar)")
    demo.add_argument("--epochs", type=_positive_int, metavar="N", default=None,
                      help="training epochs (default: the engine's own for tabular_ar, "
                           + ", ".join(f"{epochs} for {engine}" for engine, epochs in DEMO_EPOCHS.items()) + ")")
    demo.add_argument("--batch-size", type=_positive_int, metavar="N", default=None,
                      help="training batch size (default: the engine's)")
    demo.add_argument("--rows", type=_positive_int, metavar="N", default=None,
                      help="rows to generate (default: as many as the training rows, 4,000)")
    demo.add_argument("--seed", type=_seed, metavar="N", default=DEMO_SEED, help=f"seed (default: {DEMO_SEED})")
    demo.add_argument("--overwrite", action="store_true",
                      help="replace the checkpoint, synthetic.csv and report.html/.json DIR already holds")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    demo.set_defaults(handler=_cmd_demo)
    return parser


# --------------------------------------------------------------------------- file helpers


def _read_table(path: Path, what: str) -> pd.DataFrame:
    """Read an input table (:func:`~syntho_hive.interface.files.read_table`), refusing an empty one.

    Args:
        path: CSV (optionally compressed) or Parquet file, or Parquet dataset directory.
        what: The table's role, named in error messages (``"training data"``, ``"real data"``...).

    Returns:
        The table, with at least one row and one column.

    Raises:
        SchemaError: The format cannot be told from the file name.
        SerializationError: The file is missing or cannot be read.
        CLIInputError: The table has no rows or no columns.
    """
    from syntho_hive.interface.files import read_table

    frame = read_table(path, what=what)
    if frame.empty:
        why = "nothing to learn" if what == "training data" else "nothing to compare"
        raise CLIInputError(f"Input file {path} ({what}) has no rows (or no columns); {why}.")
    return frame


def _check_output_file(path: Path, *, overwrite: bool) -> str:
    from syntho_hive.interface.files import table_format

    kind = table_format(path)
    if kind is None:
        raise CLIUsageError(f"Cannot tell the format of output file {path}: use a .csv, .csv.gz or "
                            ".parquet file name.")
    _check_writable(path, overwrite=overwrite)
    return kind


def _check_writable(path: Path, *, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise CLIInputError(f"Output file {path} already exists; pass --overwrite to replace it.")
    if path.is_dir():
        raise CLIInputError(f"Output path {path} is a directory; give a file name.")
    if not path.parent.is_dir():
        raise CLIInputError(f"Output directory {path.parent} does not exist; create it first.")


def _write_table(frame: pd.DataFrame, path: Path, kind: str) -> None:
    """Write ``frame`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    if kind == "csv":
        atomic_write(path, lambda tmp: _write_csv(frame, Path(tmp), path.name))
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def _write_csv(frame: pd.DataFrame, temporary: Path, final_name: str) -> None:
    """CSV, compressed by the final name's suffix; the same rows give the same bytes (gzip and zip
    carry no time stamp and no temporary file name)."""
    method = _compression_for(Path(final_name))
    if method not in ("gzip", "zip"):
        frame.to_csv(temporary, index=False, compression=method)
        return
    data = frame.to_csv(index=False).encode("utf-8")
    if method == "gzip":
        temporary.write_bytes(gzip.compress(data, mtime=0))
        return
    member = zipfile.ZipInfo(final_name[: -len(".zip")], date_time=(1980, 1, 1, 0, 0, 0))
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(temporary, "w") as archive:
        archive.writestr(member, data)


def _compression_for(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, method in ((".gz", "gzip"), (".bz2", "bz2"), (".zip", "zip"), (".xz", "xz")):
        if name.endswith(suffix):
            return method
    return None


def _check_checkpoint_target(path: Path, *, overwrite: bool, option: str = "--output") -> None:
    if path.exists() and not overwrite:
        raise CLIInputError(f"Checkpoint directory {path} already exists; pass --overwrite to replace it "
                            f"or choose another {option}.")
    if path.exists() and not path.is_dir():
        raise CLIInputError(f"Checkpoint path {path} exists and is not a directory.")
    if not path.parent.exists():
        raise CLIInputError(f"Parent directory of checkpoint {path} does not exist; create it first.")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


#: The Python API's spelling of an option the command line takes as a flag (``if_exists='replace'``,
#: ``on_integrity_error="drop"``).
_PYTHON_OPTION = re.compile(r"""\b(if_exists|on_integrity_error)=(['"])(\w+)\2""")


def _cli_spelling(message: str) -> str:
    """``message`` (a library error's) with the options it names spelt as this command line's flags
    (``if_exists='replace'`` -> ``--if-exists replace``, ``on_integrity_error="drop"`` ->
    ``--on-integrity-error drop``)."""
    return _PYTHON_OPTION.sub(lambda match: f"--{match.group(1).replace('_', '-')} {match.group(3)}", message)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- commands


def _new_model(engine: str, metadata: Any = None, *, epochs: int | None = None, batch_size: int | None = None,
               device: str = "auto") -> ConditionalGenerativeModel:
    """A model of ``--model`` ``engine`` (a key of :data:`ENGINES`); ``None`` options keep the engine's
    defaults, and ``device`` goes to the engines that take one (``_check_device`` refused it for the others)."""
    from syntho_hive.core.models.registry import model_class

    options: dict[str, Any] = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if v is not None}
    return model_class(ENGINES[engine])(metadata, **options, **_device_option(engine, device))


def _device_option(engine: str, device: str) -> dict[str, str]:
    """``{"device": device}`` for the engines that take one, else ``{}`` (TabularAR runs on the CPU)."""
    return {"device": device} if engine in _DEVICE_ENGINES else {}


def _check_device(args: argparse.Namespace) -> None:
    """``--device`` other than auto with an engine that has no device (TabularAR runs on the CPU)."""
    if args.device != "auto" and args.model not in _DEVICE_ENGINES:
        raise CLIUsageError(f"--device {args.device} applies to --model ctgan or tvae; --model {args.model} "
                            "runs on the CPU.")


def _check_fit_options(args: argparse.Namespace) -> None:
    """Options of ``fit`` that do not go together, found before any file or database is touched.

    Raises:
        CLIUsageError: DATA together with --source, a --source option without --source, a subset
            option without --subset-root (or --subset-root without exactly one size), --skip-foreign-key
            with --metadata, --device for TabularAR, or neither DATA nor --source.
    """
    _check_device(args)
    source_only = ("schema", "source_format", "tables", "subset_root", "subset_rows", "subset_fraction",
                   "subset_seed", "skip_foreign_keys", "on_integrity_error")
    if args.source is None:
        used = [f"--{name.replace('_', '-')}" for name in source_only if getattr(args, name) is not None]
        if used:
            raise CLIUsageError(f"{', '.join(used)} need(s) --source (a database URL or folder).")
        if args.data is None:
            raise CLIUsageError("Give the training table DATA (a .csv/.parquet file) or --source URL|DIR.")
        return
    if args.data is not None or args.table is not None:
        raise CLIUsageError("--source learns every table of a database or folder: give neither DATA nor "
                            "--table with it (choose tables with --tables A,B).")
    if args.skip_foreign_keys and args.metadata is not None:
        raise CLIUsageError(f"--skip-foreign-key leaves a foreign key out of the reflected schema, but --metadata "
                            f"{args.metadata} replaces reflection: delete that foreign key from the metadata file "
                            "instead.")
    if args.subset_root is not None:
        if (args.subset_rows is None) == (args.subset_fraction is None):
            raise CLIUsageError("--subset-root needs exactly one of --subset-rows N or --subset-fraction F.")
    else:
        used = [flag for flag, value in (("--subset-rows", args.subset_rows),
                                         ("--subset-fraction", args.subset_fraction),
                                         ("--subset-seed", args.subset_seed)) if value is not None]
        if used:
            raise CLIUsageError(f"{', '.join(used)} need(s) --subset-root TABLE.")


def _cmd_fit(args: argparse.Namespace) -> int:
    _check_fit_options(args)
    _check_checkpoint_target(args.output, overwrite=args.overwrite)
    if args.source is not None:
        return _fit_source(args)
    metadata = _load_metadata(args.metadata, args.table, narrow=False) if args.metadata is not None else None
    data = _read_table(args.data, "training data")
    if metadata is not None:  # every mismatch between the metadata file and the data, before training
        metadata.validate_schema({args.table or next(iter(metadata.tables)): data})

    model = _new_model(args.model, metadata, epochs=args.epochs, batch_size=args.batch_size, device=args.device)
    started = time.perf_counter()
    model.fit(data, table_name=args.table, seed=args.seed, progress_bar=not args.no_progress)
    trained = time.perf_counter() - started
    saved = model.save(args.output, overwrite=args.overwrite)
    print(f"trained {model.model_name} on {_plural(len(data), 'row')} x {_plural(data.shape[1], 'column')} "
          f"of {args.data} for {_epochs_run(model)} in {trained:.1f} s")
    seed = getattr(model, "seed_", args.seed)
    print(f"checkpoint saved to {saved} (seed {seed}; pass --seed {seed} to repeat this training exactly)")
    return EXIT_OK


def _epochs_run(model: ConditionalGenerativeModel) -> str:
    """``"12 epochs"``, with the most it was allowed when it stopped early (TabularAR's validation plateau)."""
    run, most = len(model.history_), model.get_params().get("epochs")
    early = f" (stopped early; at most {most:,})" if isinstance(most, int) and run < most else ""
    return f"{_plural(run, 'epoch')}{early}"


def _fit_source(args: argparse.Namespace) -> int:
    """``fit --source``: reflect (or read --metadata), fit a Synthesizer on the source, save it."""
    from syntho_hive.connectors.resolve import source_from_string
    from syntho_hive.core.metadata import Metadata
    from syntho_hive.core.models.registry import model_class
    from syntho_hive.interface.synthesizer import Synthesizer
    from syntho_hive.relational.subset import Subset

    subset = None
    if args.subset_root is not None:  # _check_fit_options: exactly one of rows and fraction
        subset = Subset(root=args.subset_root, rows=args.subset_rows, fraction=args.subset_fraction,
                        seed=0 if args.subset_seed is None else args.subset_seed)
    tables = [name.strip() for name in args.tables.split(",") if name.strip()] if args.tables else None
    source = _location(source_from_string, args.source, schema=args.schema, file_format=args.source_format,
                       skip_foreign_keys=args.skip_foreign_keys or ())
    if args.metadata is not None:
        metadata = _load_metadata(args.metadata, None, whole=True)
        if tables is not None:
            unknown = sorted(set(tables) - set(metadata.tables))
            if unknown:
                raise CLIInputError(f"--tables names {unknown}, not in metadata file {args.metadata}.")
            metadata = Metadata(tables={name: metadata.tables[name] for name in tables})
    else:
        metadata = Metadata.from_source(source, tables)
    synth = Synthesizer(metadata, seed=args.seed, model=model_class(ENGINES[args.model]),
                        **_device_option(args.model, args.device))
    started = time.perf_counter()
    synth.fit(source, epochs=args.epochs, batch_size=args.batch_size, progress_bar=not args.no_progress,
              subset=subset, on_integrity_error=args.on_integrity_error or "raise")
    trained = time.perf_counter() - started
    saved = synth.save(args.output, overwrite=args.overwrite)
    print(f"learned {_plural(len(metadata.tables), 'table')} of {source.description} in {trained:.1f} s")
    for name, dropped in synth.integrity_report_.items():
        print(f"  {name}: {_plural(dropped, 'row')} with broken keys dropped (--on-integrity-error drop)")
    from syntho_hive.relational.rules import format_rules

    print("business rules (declare or override them in the metadata):")
    print(textwrap.indent(format_rules(synth.rules_), "  "))
    report = synth.subset_report_
    if report is not None:
        for name, kept in report.kept.items():
            total = report.total.get(name)
            print(f"  {name}: {kept:,} of {'?' if total is None else f'{total:,}'} rows (subset from {report.root})")
    print(f"synthesizer saved to {saved} (seed {synth.seed}; pass --seed {synth.seed} to repeat this training)")
    return EXIT_OK


def _location(resolve: Callable[..., Any], text: str, **options: Any) -> Any:
    """``resolve(text, **options)`` (``source_from_string`` or ``target_from_string``), whose
    ConfigurationError (a file format with a database URL, ``--schema`` with a folder) is a usage mistake."""
    from syntho_hive.exceptions import ConfigurationError

    try:
        return resolve(text, **options)
    except ConfigurationError as exc:
        raise CLIUsageError(str(exc)) from exc


def _sample_synthesizer(args: argparse.Namespace) -> int:
    """``sample SYNTHESIZER_DIR --target``: every table to a database or folder."""
    from syntho_hive.connectors.resolve import target_from_string
    from syntho_hive.interface.synthesizer import Synthesizer

    if args.target is None:
        raise CLIUsageError(f"{args.checkpoint} is a Synthesizer (several tables): give --target URL|DIR.")
    if args.rows is not None or args.output is not None or args.overwrite:
        raise CLIUsageError("--rows/--output/--overwrite apply to single-model checkpoints; for a Synthesizer use "
                            "--target, --scale and --if-exists (replace or append).")
    target = _location(target_from_string, args.target, schema=args.schema, if_exists=args.if_exists or "fail",
                       file_format=args.target_format)
    synth = Synthesizer.load(args.checkpoint)
    started = time.perf_counter()
    written = synth.sample(scale=1.0 if args.scale is None else args.scale, seed=args.seed, output=target)
    elapsed = time.perf_counter() - started
    print(f"generated {_plural(len(written), 'table')} in {elapsed:.1f} s, written to {target.description}:")
    for name, where in written.items():
        print(f"  {name} -> {where}")
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    if not args.checkpoint.exists():
        raise CLIInputError(f"Checkpoint directory not found: {args.checkpoint}")
    from syntho_hive.interface.persistence import MANIFEST

    if (args.checkpoint / MANIFEST).exists():  # a Synthesizer's, even damaged: Synthesizer.load says what is wrong
        return _sample_synthesizer(args)
    if any(value is not None for value in (args.target, args.schema, args.target_format, args.if_exists,
                                            args.scale)):
        raise CLIUsageError(f"--target/--schema/--format/--if-exists/--scale apply to Synthesizer directories; "
                            f"{args.checkpoint} is a single model's checkpoint: use --rows N --output FILE.")
    if args.rows is None or args.output is None:
        raise CLIUsageError("A model checkpoint needs --rows N and --output FILE.")
    kind = _check_output_file(args.output, overwrite=args.overwrite)
    from syntho_hive.core.models import load_model

    model = load_model(args.checkpoint)  # of the engine its manifest names (CTGAN, TVAE or TabularAR)
    started = time.perf_counter()
    synthetic = model.sample(args.rows, seed=args.seed)
    elapsed = time.perf_counter() - started
    _write_table(synthetic, args.output, kind)
    print(f"sampled {_plural(len(synthetic), 'row')} x {_plural(synthetic.shape[1], 'column')} in "
          f"{elapsed:.2f} s; written to {args.output}")
    return EXIT_OK


def _load_metadata(path: Path, table: str | None, *, whole: bool = False, narrow: bool = True) -> Any:
    """Read a metadata file; unless ``whole``, check its table (``--table``, or its only table) and, with
    ``narrow``, keep only that one."""
    from syntho_hive.core.metadata import Metadata

    if not path.is_file():
        raise CLIInputError(f"Metadata file not found: {path}")
    metadata = Metadata.load(path)
    if not metadata.tables:
        raise CLIInputError(f"Metadata file {path} describes no table; add the table(s) under 'tables', or "
                            "drop --metadata to detect them from the data.")
    if whole:
        return metadata
    if table is None and len(metadata.tables) > 1:
        raise CLIUsageError(f"Metadata file {path} describes {len(metadata.tables)} tables "
                            f"({', '.join(sorted(metadata.tables))}); choose one with --table NAME.")
    if table is not None and table not in metadata.tables:
        raise CLIInputError(f"--table {table!r} is not in metadata file {path}; its tables: "
                            f"{', '.join(sorted(metadata.tables))}.")
    return metadata if table is None or not narrow else Metadata(tables={table: metadata.tables[table]})


def _format_score(value: float | None, *, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _cmd_report(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.suffix.lower() not in (".html", ".htm"):
        raise CLIUsageError(f"--output {output} must be an .html file (the JSON is written beside it).")
    json_path = output.with_suffix(".json")
    for path in (output, json_path):
        _check_writable(path, overwrite=args.overwrite)
    metadata = _load_metadata(args.metadata, args.table) if args.metadata is not None else None
    real = _read_table(args.real, "real data")
    synthetic = _read_table(args.synthetic, "synthetic data")
    holdout = _read_table(args.holdout, "holdout data") if args.holdout is not None else None
    if args.target is not None and args.target not in real.columns:
        raise CLIInputError(f"--target {args.target!r} is not a column of {args.real}; its columns: "
                            f"{', '.join(map(str, real.columns))}.")

    _write_report(real, synthetic, output, metadata, holdout=holdout, target=args.target, seed=args.seed,
                  include_samples=args.include_samples, sensitive_columns=args.sensitive,
                  quasi_identifiers=args.quasi_identifiers, pii_columns=args.pii)
    return EXIT_OK


def _write_report(real: pd.DataFrame, synthetic: pd.DataFrame, output: Path, metadata: Any, *,
                  holdout: pd.DataFrame | None, target: str | None, seed: int, **options: Any) -> None:
    """Evaluate ``synthetic`` against ``real``, write the HTML report to ``output`` and its JSON beside it,
    and print the headline figures (``report`` and ``demo``).

    Args:
        real: The real rows (the ones the model was trained on).
        synthetic: The synthetic rows.
        output: The HTML file (the JSON gets the suffix ``.json``).
        metadata: The table's metadata, or ``None`` to detect sdtypes.
        holdout: Real rows the model never saw, or ``None``.
        target: The ML-efficacy target column, or ``None``.
        seed: Seed of the metrics' samples and models.
        **options: More :meth:`~syntho_hive.validation.ValidationReport.generate` options.
    """
    from syntho_hive.validation import ValidationReport

    started = time.perf_counter()
    report = ValidationReport()
    html_path = report.generate(real, synthetic, output, metadata, holdout=holdout, target=target, seed=seed,
                                **options)
    elapsed = time.perf_counter() - started
    result = report.result
    print(f"evaluated {_plural(len(synthetic), 'synthetic row')} against {_plural(len(real), 'real row')} "
          f"in {elapsed:.1f} s")
    print(f"  overall quality     {_format_score(result.overall)}  (column shapes and pair trends; 1.00 = same)")
    print(f"  column shapes       {_format_score(result.column_shapes)}")
    print(f"  column pair trends  {_format_score(result.column_pair_trends)}")
    detection_skipped = _skip_reason(result, "detection")
    if result.detection_auc is None and detection_skipped:
        print(f"  detection AUC       skipped: {detection_skipped}")
    else:
        print(f"  detection AUC       {_format_score(result.detection_auc)}  (0.50 = indistinguishable)")
    if result.ml_efficacy is not None and holdout is None:
        efficacy_note = "  (synthetic / real model score; optimistic without --holdout, see the JSON notes)"
    elif result.ml_efficacy is not None:
        efficacy_note = "  (synthetic / real model score)"
    elif target is None:
        efficacy_note = "  (pass --target)"
    else:  # the ratio is undefined when the model trained on real data scores <= 0
        efficacy_note = f"  (undefined: the model trained on real data does not predict {target!r}; see the JSON)"
    print(f"  ML efficacy         {_format_score(result.ml_efficacy)}{efficacy_note}")
    privacy_skipped = _skip_reason(result, "privacy")
    if result.privacy is not None:
        _print_privacy(result.privacy)
    elif privacy_skipped:
        print(f"  privacy             skipped: {privacy_skipped}")
    print(f"report written to {html_path} and {html_path.with_suffix('.json')}")


def _skip_reason(result: QualityResult, metric: str) -> str | None:
    """Why ``metric`` was not computed (the tables' ``skipped`` reasons, each once), or ``None``."""
    reasons = dict.fromkeys(table.skipped[metric] for table in result.tables.values() if metric in table.skipped)
    return "; ".join(reasons) or None


def _print_privacy(privacy: PrivacyResult) -> None:
    """The privacy and disclosure-risk lines of ``synthohive report``."""
    chance = privacy.holdout_copy_rate
    print(f"  exact copies        {_format_score(privacy.exact_copy_rate, digits=4)}  (share of synthetic "
          "rows equal to a real row" + ("" if chance is None else f"; chance level, holdout rows: {chance:.4f}") + ")")
    for label, score, note in (
            ("DCR share", privacy.dcr_share_closer_to_training, "closer to training than holdout; 0.50 ideal"),
            ("membership AUC", privacy.membership_inference_auc, "membership-inference attack; 0.50 = no leak"),
            ("attribute risk", privacy.attribute_inference_risk,
             "sensitive values guessed more often for training rows; 0.00 ideal")):
        if score is not None:
            print(f"  {label:<20}{_format_score(score)}  ({note})")
    if privacy.pii_value_leaks:
        print(f"  PII values leaked   {privacy.pii_value_leaks}  (synthetic PII values equal to a real one; "
              "WARNING, see the report)")
    if privacy.real_rows_reproduced:
        print(f"  rows reproduced     {privacy.real_rows_reproduced}  (real rows repeated whole; WARNING, "
              "see the report)")


def _cmd_demo(args: argparse.Namespace) -> int:
    import numpy as np

    from syntho_hive.core.models import load_model
    from syntho_hive.datasets import load_adult_sample

    output_dir: Path = args.output_dir
    if output_dir.exists() and not output_dir.is_dir():
        raise CLIInputError(f"--output-dir {output_dir} exists and is not a directory.")
    checkpoint = output_dir / "checkpoint"
    synthetic_path = output_dir / "synthetic.csv"
    if output_dir.is_dir():  # every output is refused before any work, as report and sample refuse theirs
        _check_checkpoint_target(checkpoint, overwrite=args.overwrite, option="--output-dir")
        for path in (synthetic_path, output_dir / "report.html", output_dir / "report.json"):
            _check_writable(path, overwrite=args.overwrite)
    output_dir.mkdir(parents=True, exist_ok=True)
    epochs = args.epochs or DEMO_EPOCHS.get(args.model)  # None: the engine's own default

    real = load_adult_sample()
    order = np.random.default_rng(args.seed).permutation(len(real))
    n_holdout = round(len(real) * DEMO_HOLDOUT_FRACTION)
    holdout = real.iloc[np.sort(order[:n_holdout])].reset_index(drop=True)
    train = real.iloc[np.sort(order[n_holdout:])].reset_index(drop=True)
    rows = args.rows or len(train)
    print(f"SynthoHive {__version__} demo: UCI Adult sample, {_plural(len(real), 'row')} x "
          f"{_plural(real.shape[1], 'column')} (Becker & Kohavi 1996, CC BY 4.0); "
          f"{len(train):,} to train on, {len(holdout):,} held out (seed {args.seed})")

    model = _new_model(args.model, epochs=epochs, batch_size=args.batch_size)
    started = time.perf_counter()
    model.fit(train, seed=args.seed, progress_bar=not args.no_progress)
    train_seconds = time.perf_counter() - started
    print(f"  trained {model.model_name}: {_epochs_run(model)} in {train_seconds:.1f} s")

    model.save(checkpoint, overwrite=args.overwrite)
    size = sum(f.stat().st_size for f in checkpoint.iterdir() if f.is_file())
    print(f"  saved checkpoint: {checkpoint} ({size / 1e6:.1f} MB)")

    started = time.perf_counter()
    fresh = load_model(checkpoint)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = fresh.sample(rows, seed=args.seed)
    sample_seconds = time.perf_counter() - started
    _write_table(synthetic, synthetic_path, "csv")
    print(f"  loaded it into a fresh {fresh.model_name} in {load_seconds:.2f} s, sampled "
          f"{_plural(len(synthetic), 'row')} in {sample_seconds:.2f} s "
          f"({len(synthetic) / max(sample_seconds, 1e-9):,.0f} rows/s) -> {synthetic_path}")
    same = model.sample(rows, seed=args.seed).equals(synthetic)
    print(f"  fresh object reproduces the trained model's sample (same seed): {'yes' if same else 'NO'}")
    dtypes_kept = bool((synthetic.dtypes.astype(str) == real.dtypes.astype(str)).all()) \
        and list(synthetic.columns) == list(real.columns)
    print(f"  columns and dtypes identical to the real table: {'yes' if dtypes_kept else 'NO'}")

    print()
    _write_report(train, synthetic, output_dir / "report.html", None, holdout=holdout, target=DEMO_TARGET,
                  seed=args.seed)
    return EXIT_OK


# --------------------------------------------------------------------------- entry point


@contextlib.contextmanager
def _logging_for_cli(*, debug: bool, verbose: bool) -> Iterator[None]:
    """Route library events to stderr (warnings only by default) for the duration of a command.

    The previous structlog configuration is restored afterwards, so calling :func:`main` from
    Python (tests, notebooks) leaves the caller's logging as it was.
    """
    previous = structlog.get_config()
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.configure(**previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``synthohive`` command line.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 1 on an error, 2 on bad usage, 3 on an internal error (an
        unexpected exception, from SynthoHive or a dependency: reported in one line, its traceback
        logged at debug level and shown with ``--debug``), 130 when interrupted.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except _UsageError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version: argparse printed and asked to exit
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if getattr(args, "handler", None) is None:
        print(f"error: choose a command: fit, sample, report or demo (see '{PROG} --help')", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "table", None) is not None and getattr(args, "metadata", None) is None:
        print("error: --table needs --metadata (it picks a table of the metadata file).", file=sys.stderr)
        return EXIT_USAGE
    debug = bool(getattr(args, "debug", False))
    verbose = bool(getattr(args, "verbose", False))
    try:
        with _logging_for_cli(debug=debug, verbose=verbose):
            try:
                return int(args.handler(args))
            except _USER_ERRORS:
                raise
            except Exception:
                # Logged while the CLI's logging is on: the traceback reaches stderr with --debug only.
                _log.debug("cli_internal_error", command=args.command, exc_info=True)
                raise
    except CLIUsageError as exc:
        print(f"error: {_one_line(str(exc))} (see '{PROG} {args.command} --help')", file=sys.stderr)
        return EXIT_USAGE
    except _USER_ERRORS as exc:
        if debug:
            traceback.print_exc(file=sys.stderr)
        message = _cli_spelling(_one_line(str(exc))) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug or a dependency's failure: kept distinct (status 3), never a bare traceback
        detail = _one_line(str(exc))
        hint = "see the traceback above" if debug else "rerun with --debug for the traceback"
        print(f"error: internal error ({type(exc).__name__}{': ' + detail if detail else ''}); {hint}",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
