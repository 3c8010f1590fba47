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

    from workbench.analysis import live_note, live_replay
    from workbench.notebooks import data_choice, load_data, publish, stage, wait_for
    from workbench.report import readable
    from workbench.views import freshness_page

    return (
        data_choice,
        freshness_page,
        live_note,
        live_replay,
        load_data,
        mo,
        publish,
        readable,
        stage,
        wait_for,
    )


@app.cell
def _(mo):
    mo.md("""
    # Fresh data: replay, incremental updates and drift

    ALS is trained on the first part of the log (by time); the rest is replayed in
    windows. In each window every strategy recommends `k` items to the users active
    in it and is scored on their events there, then sees the window: **frozen**
    never updates, **incremental** folds the window in (`partial_fit` of the user
    vectors; new items get their decayed-popularity placement until the next refit),
    **refit** trains from scratch on everything so far (after every window, or every
    n-th on a large log: the rule is stated with the results). Drift compares each
    window with the training period.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    start_fraction = mo.ui.slider(
        0.5, 0.9, step=0.05, value=0.8, label="train on the first share of time", show_value=True
    )
    window_days = mo.ui.slider(1, 14, step=1, value=7, label="window (days)", show_value=True)
    k = mo.ui.slider(5, 20, step=5, value=10, label="k (list length)", show_value=True)
    run = mo.ui.run_button(label="Replay")
    mo.hstack([dataset, start_fraction, window_days, k, run], justify="start")
    return dataset, k, run, start_fraction, window_days


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ds, freshness_page, k, mo, run, stage, start_fraction, wait_for, window_days):
    wait_for(run, "Press **Replay** to train and replay the three strategies.")
    stage("replaying frozen, incremental and refit; measuring drift")
    with mo.status.spinner(title="Replaying frozen, incremental and refit ALS"):
        # a log without times gives the page saying why, with the same sections
        view = freshness_page(ds, start_fraction=start_fraction.value, window_days=window_days.value, k=k.value)
    view.section("setup")
    return (view,)


@app.cell
def _(view):
    view.section("strategies")
    return


@app.cell
def _(view):
    view.section("windows")
    return


@app.cell
def _(view):
    view.section("drift")
    return


@app.cell
def _(ds, live_note, live_replay, mo, readable, run, stage, start_fraction, wait_for):
    wait_for(run, "Press **Replay** to also run the live loop against a RabbitMQ broker.")
    # notebook only, not one of the page's sections: it needs a broker running now
    _title = "**Live loop: events from a broker** (notebook only)"
    live_why = live_note()
    if live_why:
        _live = mo.md(f"{_title}\n\n{live_why}")
    else:
        stage("live loop: publishing events to RabbitMQ and applying them batch by batch")
        _live = mo.vstack(
            [
                mo.md(
                    f"{_title}\n\nThe same incremental update, fed by a real broker: the first 2,000 events after "
                    "the training period go to a fresh RabbitMQ queue and come back in batches of 250, each folded "
                    "into ALS and decayed popularity, checked for drift and checkpointed before it is acknowledged "
                    "(`workbench.analysis.live`). A server started on the loop's `current/als` serves each "
                    "checkpoint after `POST /admin/reload`. Not in the HTML report: it depends on a broker running now."
                ),
                readable(live_replay(ds, limit=2000, batch_size=250, start_fraction=start_fraction.value)),
            ]
        )
    _live
    return


@app.cell
def _(dataset, publish, stage, view):
    stage("writing report")
    headline = view.headline
    publish(view.report(dataset.value), "09_freshness", headline)
    return


if __name__ == "__main__":
    app.run()
