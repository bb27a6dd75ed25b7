rule dataset:
    """Load or generate one dataset (all sessions, labels, split) into a single .npz."""
    output:
        f"{R}/datasets/{{dataset}}.npz",
    params:
        spec=lambda wc: CFG["datasets"][wc.dataset],
    log:
        f"{LOGS}/dataset/{{dataset}}.log",
    threads: 1
    script:
        "../../scripts/prepare_dataset.py"
