"""A real SparkSession for the Spark integration tests, started once per test session (per xdist worker).

``local[2]`` with Hive support: the warehouse and the embedded Derby metastore live in a temporary
folder, the UI is off, 4 shuffle partitions, Arrow enabled, session time zone UTC, no whole-stage code
generation (the tests' tables are tiny: compiling code per query costs more than it saves). A missing
pyspark or Java fails the tests that need the session (``make test`` installs pyspark, ``.ci/run`` Java):
they never skip.
Each test uses its own Hive database names, so tests do not see each other's tables.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The session's SparkSession (``local[2]``, Hive support, temporary warehouse and Derby metastore)."""
    from syntho_hive.connectors.spark.session import require_spark

    sql = require_spark()  # MissingDependencyError (pyspark or Java absent) fails the tests
    base = tmp_path_factory.mktemp("spark")
    derby = base / "derby"
    derby.mkdir()
    session = (
        sql.SparkSession.builder.master("local[2]").appName("synthohive-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # tiny data: compiling whole-stage code for each new query costs more than it saves
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(base / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={derby}")
        .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={base / 'metastore_db'};create=true")
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("FATAL")
    try:
        yield session
    finally:
        session.stop()
