rule summary:
    """The tidy results table: one row per measured value, from every metric file."""
    input:
        analysis_tables(),
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
    resources:
        mem_mb=memory_request("summary"),
    script:
        "../../scripts/summary.py"


rule summary_table:
    """The results table as a filterable, sortable page of the report (summary.csv as HTML)."""
    input:
        summary=f"{R}/summary.csv",
        models=f"{R}/models.tsv",
    output:
        report(
            f"{R}/summary.html",
            caption="../report/summary_table.rst",
            category="Results table",
            labels={"table": "all results (filter and sort)"},
        ),
    log:
        f"{LOGS}/summary_table.log",
    conda:
        ENV_CPU
    script:
        "../../scripts/summary_table.py"


if PAIRS:

    rule cka_figures:
        """One CKA heatmap per model pair and CKA of corresponding layers across model groups."""
        input:
            summary=f"{R}/summary.csv",
            models=f"{R}/models.tsv",
        output:
            heatmaps=[
                report(
                    f"{R}/figures/cka/{a}__{b}.png",
                    caption="../report/cka_heatmap.rst",
                    category="CKA",
                    subcategory="Layer × layer matrices",
                    labels={"model A": a, "model B": b},
                )
                for a, b in HEATMAP_PAIRS
            ],
            corresponding=report(
                f"{R}/figures/cka_corresponding_layers.png",
                caption="../report/cka_corresponding.rst",
                category="CKA",
                subcategory="Corresponding layers",
            ),
        log:
            f"{LOGS}/cka_figures.log",
        conda:
            ENV_CPU
        params:
            software=SOFTWARE,
            pairs=HEATMAP_PAIRS,
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
    log:
        f"{LOGS}/training_figure.log",
    conda:
        ENV_CPU
    params:
        software=SOFTWARE,
        models=[m.name for m in trained_models()],
    script:
        "../../scripts/training_figure.py"


# one figure per store (analyses with a `store_figure` in the registry), one rule each
for _analysis, _spec in REGISTRY.items():
    _stores = analysis_units(_analysis)
    if _spec.store_figure is None or not _stores:
        continue
    _folder, _caption, _category = _spec.store_figure

    rule:
        name:
            f"{_analysis}_figures"
        input:
            [f"{R}/{_analysis}/{s}.npz" for s in _stores],
        output:
            [
                report(
                    f"{R}/figures/{_folder}/{s}.png",
                    caption=f"../report/{_caption}.rst",
                    category=_category,
                    subcategory=STORE_GROUP.get(s, s),
                    labels={"model": s, "figure": _category},
                )
                for s in _stores
            ],
        log:
            f"{LOGS}/figures/{_analysis}.log",
        conda:
            ENV_CPU
        params:
            software=SOFTWARE,
            kind=_analysis,
            models=_stores,
            options=ANALYSES[_analysis],  # the figure settings (colour label, layer ...)
        script:
            "../../scripts/model_figures.py"


rule summary_figures:
    """Figures read from the results table: across-layer curves of every analysis."""
    input:
        summary=f"{R}/summary.csv",
        models=f"{R}/models.tsv",
    output:
        **{
            k: report(f"{R}/figures/{k}.png", caption=f"../report/{k}.rst", category=c)
            for k, c in (
                a.summary_figure
                for n, a in REGISTRY.items()
                if a.summary_figure and analysis_units(n)
            )
        },
    log:
        f"{LOGS}/figures/summary_figures.log",
    conda:
        ENV_CPU
    script:
        "../../scripts/summary_figures.py"


rule comparison_figures:
    """Figures that compare models by their settings (output dimension, architecture,
    temperature, baselines, hypotheses): the config's `report_figures`."""
    input:
        summary=f"{R}/summary.csv",
        models=f"{R}/models.tsv",
        embeddings=(
            [f"{R}/embedding/{s}.npz" for s in STORES]
            if "embedding" in STORE_ANALYSES
            and "baseline_embeddings" in CFG["report_figures"]
            else []
        ),
    output:
        **{
            name: report(
                f"{R}/figures/comparison/{name}.png",
                caption=f"../report/comparison_{name}.rst",
                category="Model comparison",
            )
            for name in CFG["report_figures"]
        },
        **(
            {
                "attribution_regularisation_table": report(
                    f"{R}/tables/attribution_regularisation.csv",
                    caption="../report/comparison_attribution_regularisation_table.rst",
                    category="Model comparison",
                )
            }
            if "attribution_regularisation" in CFG["report_figures"]
            else {}
        ),
    log:
        f"{LOGS}/figures/comparison.log",
    conda:
        ENV_CPU
    params:
        software=SOFTWARE,
        labels=CFG["comparison_labels"],
    script:
        "../../scripts/comparison_figures.py"


if analysis_units("similarity"):

    rule model_space_figure:
        """Model space: MDS map and clustering of every model by a shape metric (embeddings),
        and the MDS map at every layer."""
        input:
            f"{R}/similarity_grounding/model_space.npz",
        output:
            embedding=report(
                f"{R}/figures/model_space.png",
                caption="../report/model_space.rst",
                category="Similarity measures",
            ),
            layers=report(
                f"{R}/figures/model_space_layers.png",
                caption="../report/model_space_layers.rst",
                category="Similarity measures",
            ),
        log:
            f"{LOGS}/figures/model_space.log",
        conda:
            ENV_CPU
        params:
            software=SOFTWARE,
        script:
            "../../scripts/model_space_figure.py"
