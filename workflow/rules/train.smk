rule train:
    """Train one CEBRA model (seeded) on the training split; keep the loss curve."""
    input:
        dataset=lambda wc: f"{R}/datasets/{MODELS[wc.model].dataset}.npz",
    output:
        model=f"{R}/models/{{model}}.pt",
        loss=f"{R}/models/{{model}}.loss.csv",
        goodness_of_fit=f"{R}/goodness_of_fit/{{model}}.csv",
    params:
        training=lambda wc: MODELS[wc.model].training,
        seed=lambda wc: MODELS[wc.model].seed,
        device=CFG["device"],
        goodness_of_fit=ANALYSES["goodness_of_fit"],
    log:
        f"{LOGS}/train/{{model}}.log",
    threads: 1
    resources:
        mem_mb=memory_request("train"),
        gpu=1,
    conda:
        ENV_GPU
    script:
        "../../scripts/train_model.py"
