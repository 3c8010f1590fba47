import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import importlib.util
    import sys

    import marimo as mo

    # Without the package, say what to do (not an import error, nor an offer to install a namesake from PyPI).
    mo.stop(
        importlib.util.find_spec("workbench") is None,
        mo.md(
            f"**workbench is not installed in this Python** (`{sys.executable}`). In the project folder run "
            "`make setup`, then open the notebook with `.venv/bin/marimo edit`."
        ),
    )

    from workbench.analysis import user_segments
    from workbench.evaluation import METRICS
    from workbench.notebooks import data_choice, fitted, load_data, publish, stage, wait_for
    from workbench.views import audit_segments, audit_view, standard_run

    return (
        METRICS,
        audit_segments,
        audit_view,
        data_choice,
        fitted,
        load_data,
        mo,
        publish,
        stage,
        standard_run,
        user_segments,
        wait_for,
    )


@app.cell
def _(mo):
    mo.md("""
    # Bias audit

    Who gets worse recommendations, and which items get recommended at all?
    ALS (default settings) and a most-popular baseline are trained on a
    per-user split. Per-user metrics are compared across the
    user segments the data has (gender, region, occupation, age band, training
    activity band), with bootstrap intervals and a Kruskal-Wallis test.
    Gaps to the best group above the threshold are flagged in plain words.
    Popularity bias and exposure by item category close the audit.
    """)
    return


@app.cell
def _(METRICS, data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)", show_value=True)
    metric = mo.ui.dropdown(options=list(METRICS), value="ndcg", label="audited metric")
    threshold = mo.ui.slider(0.05, 0.5, step=0.05, value=0.1, label="flag gaps above", show_value=True)
    run = mo.ui.run_button(label="Train models")
    mo.hstack([dataset, k, metric, threshold, run], justify="start", wrap=True)
    return dataset, k, metric, run, threshold


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ds, fitted, mo, run, stage, standard_run, wait_for):
    wait_for(run, "Press **Train models** to fit popularity and ALS.")
    stage("splitting, training popularity and ALS, scoring per user")
    with mo.status.spinner(title="Training popularity and ALS"):
        trained = standard_run(ds, fit=fitted)
    return (trained,)


@app.cell
def _(k, trained):
    # k only changes the lists scored: changing it does not train again
    base = trained.at_k(k.value)
    return (base,)


@app.cell
def _(base, ds, mo, user_segments):
    segments = user_segments(ds, base.train)
    mo.md("Segments: " + ", ".join(f"**{name}** ({segments[name].nunique()} groups)" for name in segments.columns))
    return (segments,)


@app.cell
def _(audit_segments, base, segments, stage):
    stage("bootstrapping group intervals")
    audits = audit_segments(base, segments)
    return (audits,)


@app.cell
def _(audit_view, audits, base, metric, threshold):
    view = audit_view(base, audits, metric=metric.value, threshold=threshold.value)
    view.section("setup")
    return (view,)


@app.cell
def _(view):
    view.section("overall")
    return


@app.cell
def _(view):
    view.section("flags")
    return


@app.cell
def _(view):
    view.section("segments")
    return


@app.cell
def _(view):
    view.section("popularity")
    return


@app.cell
def _(view):
    view.section("exposure")
    return


@app.cell
def _(view):
    view.section("details")
    return


@app.cell
def _(dataset, publish, stage, view):
    stage("writing report")
    headline = view.headline
    publish(view.report(dataset.value), "07_audit", headline)
    return


if __name__ == "__main__":
    app.run()
