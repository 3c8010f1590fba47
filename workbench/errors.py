"""Error hierarchy: every error a user can cause is a WorkbenchError with one clear line."""


class WorkbenchError(Exception):
    """Base class of all errors the workbench raises on purpose."""


class DataError(WorkbenchError, ValueError):
    """Input data is missing, malformed or inconsistent."""


class ConfigError(WorkbenchError, ValueError):
    """A parameter or option is invalid."""


class ModelError(WorkbenchError, RuntimeError):
    """A model is used wrongly (e.g. before fit) or a model file is damaged or foreign."""


class DataWarning(UserWarning):
    """Input the workbench reads but doubts (implausible dates, negative strengths, unknown event types,
    mixed time zones converted to UTC); the message counts the rows and names one."""


class FallbackWarning(UserWarning):
    """Some recommendations came from a fallback (rows marked ``fallback=True``); the message counts them."""


class UnknownItemsWarning(UserWarning):
    """Some ids of an allow-list (``recommend(items=...)``) are unknown to the model and were ignored; the message counts them."""


def first_line(exc: BaseException | str, default: str | None = None) -> str:
    """The first line of ``str(exc)`` (stripped); when blank, ``default`` or else the exception's class name."""
    lines = str(exc).strip().splitlines()
    if lines:
        return lines[0]
    return type(exc).__name__ if default is None else default
