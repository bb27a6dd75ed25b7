rule extract:
    """Per-layer activations of one model (and session), aligned to input time, as a zarr store."""
    input:
        model=model_file,
        dataset=store_dataset,
    output:
        directory(f"{R}/activations/{{store}}.zarr"),
    log:
        f"{LOGS}/extract/{{store}}.log",
    conda:
        ENV_GPU
    threads: 1
    resources:
        mem_mb=memory_request("extract"),
        gpu=1,
    params:
        software=SOFTWARE,
        info=store_params,
        chunk_size=CFG["extraction"]["chunk_size"],
        references=CFG["extraction"]["references"],
        capture=CFG["extraction"]["capture"],
        trust=CFG["trust_model_files"],
        device=CFG["device"],
    script:
        "../../scripts/extract_activations.py"
