rule alignment:
    """Alignment of every layer of one activation store with the recorded activity of its
    session: cRSA, encoding regression, eRSA, best layer, relative representations."""
    input:
        store=f"{R}/activations/{{store}}.zarr",
        dataset=store_dataset,
    output:
        table=f"{R}/alignment/{{store}}.csv",
        arrays=f"{R}/alignment/{{store}}.npz",
    log:
        f"{LOGS}/alignment/{{store}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("alignment"),
    params:
        software=SOFTWARE,
        options=job_settings("alignment", ANALYSES["alignment"]),
        session=lambda wc: STORES[wc.store][1],
    script:
        "../../scripts/alignment.py"
