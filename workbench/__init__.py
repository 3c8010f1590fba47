"""workbench: a notebook-driven analysis workbench for e-commerce recommendation."""

from workbench.errors import ConfigError, DataError, ModelError, WorkbenchError

__all__ = ["WorkbenchError", "DataError", "ConfigError", "ModelError"]
__version__ = "0.1.0"
