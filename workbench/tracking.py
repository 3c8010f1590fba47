"""Optional experiment tracking with MLflow: parameters, metrics, charts and a model directory per run.

MLflow is an optional extra (``pip install 'workbench[tracking]'``). Without it
every call validates its inputs the same way, logs nothing, returns None and
warns once, in one line, how to enable tracking.

A folder as ``tracking_uri`` (default ``./mlruns``) holds a local store: a SQLite
database ``mlflow.db`` and the artifacts under ``artifacts/`` (MLflow 3 keeps
its plain-file store in maintenance mode). A URI with a scheme (``sqlite:``,
``http:``, ``file:``, ``databricks``) is passed to MLflow as it is.

>>> run_id = track_run("als tuned", params={"factors": 64}, metrics={"ndcg": 0.31})  # doctest: +SKIP
>>> # browse: mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

import altair as alt
import numpy as np

from workbench.errors import ConfigError, first_line

__all__ = ["track_run", "Tracker", "quiet_loggers", "DEFAULT_STORE", "DEFAULT_EXPERIMENT"]

DEFAULT_STORE = "mlruns"
DEFAULT_EXPERIMENT = "workbench"
INSTALL_HINT = "experiment tracking is off (MLflow is not installed); enable it with: pip install 'workbench[tracking]'"
_NOISY_LOGGERS = ("mlflow", "alembic")


def _mlflow() -> ModuleType | None:
    """The mlflow module, or None (with the one-line install hint) when it cannot be imported."""
    try:
        import mlflow
    except ImportError:
        warnings.warn(INSTALL_HINT, UserWarning, stacklevel=2)
        return None
    return mlflow


@contextmanager
def quiet_loggers(*names: str) -> Iterator[None]:
    """Raise the named loggers to WARNING (silencing their INFO lines) during a call, then restore their levels.

    >>> with quiet_loggers("mlflow", "alembic"):  # doctest: +SKIP
    ...     client.create_experiment("workbench")
    """
    loggers = [logging.getLogger(name) for name in names]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, previous, strict=False):
            logger.setLevel(level)


def _store(tracking_uri: str | Path | None) -> tuple[str, Path | None]:
    """(MLflow tracking URI, local store folder or None) for a folder or a URI with a scheme."""
    text = str(DEFAULT_STORE if tracking_uri is None else tracking_uri)
    if not text.strip():
        raise ConfigError("tracking_uri: expected a folder or an MLflow URI, got an empty string")
    if len(urlparse(text).scheme) > 1 or text == "databricks":  # a one-letter scheme is a Windows drive
        return text, None
    folder = Path(text).expanduser().resolve()
    return f"sqlite:///{folder / 'mlflow.db'}", folder


def _check_run(
    name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, Any],
    charts: Mapping[str, Any] | None,
    model_dir: str | Path | None,
) -> tuple[dict[str, str], dict[str, float]]:
    """Validated (params as strings, metrics as floats); raises ConfigError naming the bad entry."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"run name: expected a non-empty string, got {name!r}")
    for label, mapping in (("params", params), ("metrics", metrics), ("charts", charts or {})):
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"{label}: expected a mapping of name to value, got {type(mapping).__name__}")
    bad_param = next((k for k, v in params.items() if not isinstance(v, (str, int, float, bool, np.generic))), None)
    if bad_param is not None:
        kind = type(params[bad_param]).__name__
        raise ConfigError(f"params[{bad_param!r}]: expected a string or a number, got {kind}")
    numeric = (int, float, np.number)
    bad_metric = next(
        (k for k, v in metrics.items() if isinstance(v, (bool, np.bool_)) or not isinstance(v, numeric)), None
    )
    if bad_metric is not None:
        kind = type(metrics[bad_metric]).__name__
        raise ConfigError(f"metrics[{bad_metric!r}]: expected a number, got {kind}")
    bad_chart = next((k for k, v in (charts or {}).items() if not isinstance(v, alt.TopLevelMixin)), None)
    if bad_chart is not None:
        raise ConfigError(f"charts[{bad_chart!r}]: expected an altair chart, got {type(charts[bad_chart]).__name__}")
    if model_dir is not None and not Path(model_dir).is_dir():
        raise ConfigError(f"model_dir: {model_dir} is not a directory (save the model first: model.save(dir))")
    as_text = {str(k): str(v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}
    return as_text, {str(k): float(v) for k, v in metrics.items()}


@dataclass(frozen=True)
class Tracker:
    """Log runs into one MLflow experiment of one store (a folder, by default ``./mlruns``).

    >>> tracker = Tracker("mlruns", experiment="tuning")  # doctest: +SKIP
    >>> tracker.log_run("als", params={"factors": 64}, metrics={"ndcg": 0.31})  # doctest: +SKIP
    'c0ffee...'
    """

    tracking_uri: str | Path | None = None
    experiment: str = DEFAULT_EXPERIMENT

    def log_run(
        self,
        name: str,
        *,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        charts: Mapping[str, alt.TopLevelMixin] | None = None,
        model_dir: str | Path | None = None,
    ) -> str | None:
        """Log one finished run; returns its MLflow run id, or None when MLflow is not installed.

        ``charts`` (name -> altair chart) are stored as ``charts/<name>.svg``; the
        files of ``model_dir`` (e.g. from ``model.save(dir)``) under ``model/``.
        """
        as_text, as_float = _check_run(name, params, metrics, charts, model_dir)
        uri, folder = _store(self.tracking_uri)
        mlflow = _mlflow()
        if mlflow is None:
            return None
        artifact_location = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            artifact_location = (folder / "artifacts").as_uri()
        try:
            with quiet_loggers(*_NOISY_LOGGERS):  # database creation, migrations
                client = mlflow.MlflowClient(tracking_uri=uri)
                found = client.get_experiment_by_name(self.experiment)
                experiment_id = (
                    found.experiment_id
                    if found is not None
                    else client.create_experiment(self.experiment, artifact_location=artifact_location)
                )
                run_id = client.create_run(experiment_id, run_name=name).info.run_id
                try:
                    _log_contents(mlflow, client, run_id, as_text, as_float, charts or {}, model_dir)
                except BaseException:
                    client.set_terminated(run_id, status="FAILED")
                    raise
                client.set_terminated(run_id, status="FINISHED")
        except mlflow.exceptions.MlflowException as exc:
            detail = first_line(exc.message, "unknown MLflow error")
            raise ConfigError(f"tracking run {name!r} in {uri}: {detail}") from None
        return run_id


def _log_contents(
    mlflow: ModuleType,
    client: Any,
    run_id: str,
    params: dict[str, str],
    metrics: dict[str, float],
    charts: Mapping[str, alt.TopLevelMixin],
    model_dir: str | Path | None,
) -> None:
    stamp = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[mlflow.entities.Metric(k, v, stamp, 0) for k, v in metrics.items()],
        params=[mlflow.entities.Param(k, v) for k, v in params.items()],
    )
    if charts:
        with tempfile.TemporaryDirectory(prefix="workbench-charts-") as tmp:
            for chart_name, chart in charts.items():
                chart.save(str(Path(tmp) / f"{chart_name}.svg"))
            client.log_artifacts(run_id, tmp, artifact_path="charts")
    if model_dir is not None:
        client.log_artifacts(run_id, str(model_dir), artifact_path="model")


def track_run(
    name: str,
    *,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    charts: Mapping[str, alt.TopLevelMixin] | None = None,
    model_dir: str | Path | None = None,
    tracking_uri: str | Path | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
) -> str | None:
    """Log one run (see :meth:`Tracker.log_run`); the run id, or None without MLflow.

    >>> track_run("als", params={"factors": 64}, metrics={"ndcg": 0.31}, tracking_uri=tmp)  # doctest: +SKIP
    """
    tracker = Tracker(tracking_uri, experiment=experiment)
    return tracker.log_run(name, params=params, metrics=metrics, charts=charts, model_dir=model_dir)
