rule dataset:
    """Load or generate one dataset (all sessions, labels, split) into a single .npz."""
    input:
        dataset_files,
    output:
        f"{R}/datasets/{{dataset}}.npz",
    params:
        spec=lambda wc: CFG["datasets"][wc.dataset],
    log:
        f"{LOGS}/dataset/{{dataset}}.log",
    threads: 1
    conda:
        ENV_CPU
    resources:
        mem_mb=memory_request("dataset"),
    script:
        "../../scripts/prepare_dataset.py"


rule model_sheet:
    """The model sheet: one row per activation store (model, group, seed, kind, dataset,
    session, source file, sweep settings); figures and the report read it."""
    output:
        report(
            f"{R}/models.tsv",
            caption="../report/models.rst",
            category="Results table",
        ),
    params:
        rows=MODEL_SHEET,
    log:
        f"{LOGS}/model_sheet.log",
    conda:
        ENV_CPU
    script:
        "../../scripts/model_sheet.py"
