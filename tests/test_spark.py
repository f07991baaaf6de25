"""Scoring a Spark DataFrame (local[2]) equals scoring the same rows locally."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark")

import portmodel  # noqa: E402
from portmodel.spark import score  # noqa: E402

from test_batch import DOC, expected_p, make_frame  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession
    s = (SparkSession.builder.master("local[2]").appName("portmodel-test")
         .config("spark.driver.memory", "1g").config("spark.ui.enabled", "false")
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    yield s
    s.stop()


@pytest.mark.slow
def test_spark_equals_local(spark):
    df = make_frame(3000)
    df.loc[5, "color"] = "purple"      # rejected row: recorded, the others unaffected
    sdf = spark.createDataFrame(df).repartition(3)
    got = score(sdf, DOC.encode(), keep=["id"]).toPandas().sort_values("id").reset_index(drop=True)
    local = portmodel.load(DOC).predict(df, errors="mark")
    assert len(got) == len(df)
    assert list(got["id"]) == list(df["id"])
    ok = got["error"].isna().to_numpy()
    assert not ok[5] and ok.sum() == len(df) - 1
    # one numbering convention: Spark's batch positions mean nothing, so no row number
    assert "'color'" in got["error"][5] and "row" not in got["error"][5]
    np.testing.assert_allclose(got["p_yes"].to_numpy(float)[ok], local["p_yes"].to_numpy(float)[ok],
                               rtol=0, atol=0)
    np.testing.assert_allclose(got["p_yes"].to_numpy(float)[ok], expected_p(df[ok]), rtol=1e-12)
    assert list(got["y"][ok]) == list(local["y"][ok])


def test_missing_column_fails_on_the_driver(spark):
    sdf = spark.createDataFrame(make_frame(10).drop(columns=["x1"]))
    with pytest.raises(portmodel.MissingFieldError, match="x1"):
        score(sdf, DOC.encode())
