"""The data and model steps: scikit-learn's diabetes data, two regressors, their metrics.

The data ships inside scikit-learn, so nothing is downloaded. Training reads the
Parquet file back, so each model is trained on exactly the bytes that the
catalog registers.
"""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TARGET = "disease_progression"
TEST_FRACTION = 0.2
SEED = 42


def write_diabetes_parquet(path: Path) -> pa.Table:
    """Write the diabetes data (442 patients, 10 features and the target) as Parquet.

    The features are the original unscaled values (age in years, BMI, blood
    pressure and six serum measurements), not scikit-learn's mean-centred default.
    """
    bunch = load_diabetes(scaled=False)
    columns = {name: bunch.data[:, i] for i, name in enumerate(bunch.feature_names)}
    columns[TARGET] = bunch.target
    table = pa.table(columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return table


def cleanliness_score(table: pa.Table) -> int:
    """Return the share of rows, 0 to 100, with every value present, finite and not duplicated.

    Duplicates are counted by exact row content after the first occurrence.
    """
    rows: int = table.num_rows
    if rows == 0:
        return 0
    matrix = np.column_stack(
        [table.column(i).to_numpy(zero_copy_only=False) for i in range(table.num_columns)]
    )
    complete = np.isfinite(matrix.astype(float)).all(axis=1)
    _, first_rows = np.unique(matrix, axis=0, return_index=True)
    unique = np.zeros(rows, dtype=bool)
    unique[first_rows] = True
    clean_rows = int((complete & unique).sum())
    return round(100 * clean_rows / rows)


@dataclass(frozen=True)
class Split:
    """Training and held-out rows of the features and the target."""

    x_train: np.ndarray[Any, Any]
    x_test: np.ndarray[Any, Any]
    y_train: np.ndarray[Any, Any]
    y_test: np.ndarray[Any, Any]


def load_split(path: Path) -> Split:
    """Read the Parquet file and hold out a fixed 20% of rows for evaluation."""
    table = pq.read_table(path)
    features = [name for name in table.column_names if name != TARGET]
    x = np.column_stack([table.column(name).to_numpy() for name in features])
    y = table.column(TARGET).to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=SEED
    )
    return Split(x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test)


@dataclass(frozen=True)
class Candidate:
    """One model to train, with the file stem and notes it is published under."""

    stem: str
    description: str
    estimator: Any


def candidates() -> list[Candidate]:
    """Return the two models of the demo, in publishing order."""
    return [
        Candidate(
            stem="diabetes_ridge",
            description="Ridge regression (alpha=1.0) on standardised features",
            estimator=make_pipeline(StandardScaler(), Ridge(alpha=1.0)),
        ),
        Candidate(
            stem="diabetes_gbr",
            description="Gradient boosting (200 trees of depth 2, learning rate 0.05)",
            estimator=GradientBoostingRegressor(
                n_estimators=200, max_depth=2, learning_rate=0.05, random_state=SEED
            ),
        ),
    ]


def evaluate(estimator: Any, split: Split) -> dict[str, float]:
    """Return RMSE, MAE and R² of a fitted estimator on the held-out rows."""
    predicted = estimator.predict(split.x_test)
    return {
        "rmse": round(math.sqrt(mean_squared_error(split.y_test, predicted)), 4),
        "mae": round(float(mean_absolute_error(split.y_test, predicted)), 4),
        "r2": round(float(r2_score(split.y_test, predicted)), 4),
    }


@dataclass(frozen=True)
class TrainedModel:
    """The paths of one trained model and its metrics file, with the metrics."""

    model_path: Path
    metrics_path: Path
    metrics: dict[str, float]


def train_and_save(candidate: Candidate, split: Split, folder: Path) -> TrainedModel:
    """Fit ``candidate`` on the training rows and write its pickle and metrics JSON."""
    estimator = candidate.estimator.fit(split.x_train, split.y_train)
    metrics = evaluate(estimator, split)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / f"{candidate.stem}.pkl"
    model_path.write_bytes(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))
    metrics_path = folder / f"{candidate.stem}.metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return TrainedModel(model_path=model_path, metrics_path=metrics_path, metrics=metrics)
