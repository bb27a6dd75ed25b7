rule train:
    """Train one CEBRA model (seeded) on the training split; keep the loss curve."""
    input:
        dataset=lambda wc: f"{R}/datasets/{MODELS[wc.model].dataset}.npz",
    output:
        model=f"{R}/models/{{model}}.pt",
        loss=f"{R}/models/{{model}}.loss.csv",
        goodness_of_fit=f"{R}/goodness_of_fit/{{model}}.csv",
    log:
        f"{LOGS}/train/{{model}}.log",
    conda:
        ENV_GPU
    threads: 1
    resources:
        mem_mb=memory_request("train"),
        gpu=1,
    params:
        software=SOFTWARE,
        training=lambda wc: MODELS[wc.model].training,
        seed=lambda wc: MODELS[wc.model].seed,
        device=CFG["device"],
        goodness_of_fit=ANALYSES["goodness_of_fit"],
    script:
        "../../scripts/train_model.py"
