"""Reports: Altair charts (``report.charts``) and offline HTML pages (``report.render``)."""

from workbench.report.render import IndexEntry, Report, format_value, readable, write_index

__all__ = ["Report", "IndexEntry", "write_index", "format_value", "readable"]
