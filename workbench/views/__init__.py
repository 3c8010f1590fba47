"""What the notebooks show: one function per notebook returns its named tables, charts and report.

Layer: views sit right of ``report`` (data -> models -> evaluation -> analysis -> report -> views);
notebooks call a view and display what it returns.

>>> run = standard_run(load_dataset("synthetic-small"), k=10, seed=42)  # doctest: +SKIP
>>> audit_view(run).audit_table  # doctest: +SKIP
"""
