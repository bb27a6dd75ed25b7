rule cka:
    """Layer × layer CKA matrix between two models' activations on the configured split."""
    input:
        a=f"{R}/activations/{{a}}.zarr",
        b=f"{R}/activations/{{b}}.zarr",
    output:
        f"{R}/cka/{{a}}__{{b}}.csv",
    params:
        cka=CFG["cka"],
        a=lambda wc: wc.a,
        b=lambda wc: wc.b,
    log:
        f"{LOGS}/cka/{{a}}__{{b}}.log",
    threads: 1
    conda:
        ENV_CPU
    script:
        "../../scripts/cka.py"
