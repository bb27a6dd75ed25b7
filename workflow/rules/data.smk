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
    script:
        "../../scripts/prepare_dataset.py"
