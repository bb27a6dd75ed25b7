rule summary:
    """The tidy results table: one row per measured value, from every metric file."""
    input:
        cka_outputs(),
    output:
        report(
            f"{R}/summary.csv",
            caption="../report/summary.rst",
            category="Results table",
        ),
    log:
        f"{LOGS}/summary.log",
    conda:
        ENV_CPU
    script:
        "../../scripts/summary.py"


rule cka_figures:
    """One CKA heatmap per model pair and CKA of corresponding layers across model groups."""
    input:
        summary=f"{R}/summary.csv",
    output:
        heatmaps=report(
            expand(f"{R}/figures/cka/{{pair}}.png", pair=[f"{a}__{b}" for a, b in PAIRS]),
            caption="../report/cka_heatmap.rst",
            category="CKA",
            subcategory="Layer × layer matrices",
        ),
        corresponding=report(
            f"{R}/figures/cka_corresponding_layers.png",
            caption="../report/cka_corresponding.rst",
            category="CKA",
            subcategory="Corresponding layers",
        ),
    params:
        pairs=PAIRS,
        groups={s: MODELS[m].group for s, (m, _) in STORES.items()},
    log:
        f"{LOGS}/cka_figures.log",
    conda:
        ENV_CPU
    script:
        "../../scripts/cka_figures.py"


rule training_figure:
    """Training loss (and temperature) of every trained model on one plot."""
    input:
        losses=[f"{R}/models/{m.name}.loss.csv" for m in trained_models()],
    output:
        report(
            f"{R}/figures/training_loss.png",
            caption="../report/training_loss.rst",
            category="Training",
        ),
    params:
        models=[m.name for m in trained_models()],
    log:
        f"{LOGS}/training_figure.log",
    conda:
        ENV_CPU
    script:
        "../../scripts/training_figure.py"
