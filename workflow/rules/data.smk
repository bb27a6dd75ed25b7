rule dataset:
    """Load or generate one dataset (all sessions, labels, split) into a single .npz."""
    input:
        dataset_files,
    output:
        f"{R}/datasets/{{dataset}}.npz",
    log:
        f"{LOGS}/dataset/{{dataset}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("dataset"),
    params:
        software=SOFTWARE,
        spec=lambda wc: CFG["datasets"][wc.dataset],
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
    log:
        f"{LOGS}/model_sheet.log",
    conda:
        ENV_CPU
    params:
        software=SOFTWARE,
        rows=MODEL_SHEET,
    script:
        "../../scripts/model_sheet.py"
