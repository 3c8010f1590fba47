"""workbench: a notebook-driven analysis workbench for e-commerce recommendation."""

from workbench.errors import ConfigError, DataError, ModelError, WorkbenchError

__all__ = ["WorkbenchError", "DataError", "ConfigError", "ModelError"]
__version__ = "0.1.0"

#: The environment variable that picks the notebooks' data set (read by ``workbench.data.load_dataset``), and its
#: default. Kept here, below every layer, so the CLI can read them without importing pandas.
DATA_ENV = "WORKBENCH_DATA"
DEFAULT_DATA = "ml-100k"
#: Set by the report runner beside ``DATA_ENV``: JSON ``{"users": path, "items": path, "columns": {yours: canonical}}``
#: that ``load_dataset`` applies when it loads the data set ``DATA_ENV`` names (``workbench report --users`` etc.).
DATA_OPTIONS_ENV = "WORKBENCH_DATA_OPTIONS"
