rule cka:
    """Layer × layer CKA of a group of model pairs on one recording (`cka.stores_per_job`
    stores per job, one stacked covariance, each store read once)."""
    input:
        lambda wc: [
            f"{R}/activations/{s}.zarr" for s in job_stores(CKA_JOBS[wc.ckajob])
        ],
    output:
        f"{R}/cka/{{ckajob}}.csv",
    log:
        f"{LOGS}/cka/{{ckajob}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("cka"),
    params:
        software=SOFTWARE,
        cka=job_settings("cka", CFG["cka"]),
        pairs=lambda wc: [list(p) for p in CKA_JOBS[wc.ckajob]],
        device=CFG["device"],
        bootstrap=cka_job_bootstrap,
        nulls=NULLS,
    script:
        "../../scripts/cka.py"


rule similarity:
    """Shape, CCA, neighbourhood and crossnobis measures between the layers of the model
    pairs of one CKA job (`analyses.similarity`; one stacked covariance per split, each
    layer's neighbour lists and crossnobis RDM computed once)."""
    input:
        lambda wc: [
            f"{R}/activations/{s}.zarr" for s in job_stores(CKA_JOBS[wc.ckajob])
        ],
    output:
        f"{R}/similarity/{{ckajob}}.csv",
    log:
        f"{LOGS}/similarity/{{ckajob}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("similarity"),
    params:
        software=SOFTWARE,
        options=job_settings("similarity", ANALYSES["similarity"]),
        pairs=lambda wc: [list(p) for p in CKA_JOBS[wc.ckajob]],
        bootstrap=cka_job_bootstrap,  # ci_low/ci_high of the shape and CCA rows
    script:
        "../../scripts/similarity.py"


rule similarity_grounding:
    """Which similarity measure to trust on these models: layer identification across
    seeds, the label-randomisation test, and the model-space map (MDS, clustering)."""
    input:
        similarity=[f"{R}/similarity/{job}.csv" for job in analysis_units("similarity")],
        cka=cka_outputs(),
        models=f"{R}/models.tsv",
    output:
        table=f"{R}/similarity_grounding/grounding.csv",
        arrays=f"{R}/similarity_grounding/model_space.npz",
    log:
        f"{LOGS}/similarity_grounding.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("similarity_grounding"),
    params:
        software=SOFTWARE,
        model_space_measure=ANALYSES["similarity"]["model_space_measure"],
    script:
        "../../scripts/similarity_grounding.py"


rule layer_analyses:
    """All enabled per-layer analyses (RDM, distances, decoding, dimensionality, embedding,
    single units) of one model's activation store: one job per model, run side by side.
    """
    input:
        f"{R}/activations/{{store}}.zarr",
    output:
        tables=[f"{R}/{a}/{{store}}.csv" for a in STORE_ANALYSES],
        arrays=[f"{R}/{a}/{{store}}.npz" for a in STORE_ANALYSES if REGISTRY[a].arrays],
    log:
        f"{LOGS}/layer_analyses/{{store}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("layer_analyses"),
    params:
        software=SOFTWARE,
        analyses=STORE_ANALYSES,
        options={a: job_settings(a, ANALYSES[a]) for a in STORE_ANALYSES},
        bootstrap=store_bootstrap,
    script:
        "../../scripts/layer_analyses.py"


rule consistency:
    """CEBRA consistency between runs of one configuration that differ only by seed, per layer."""
    input:
        lambda wc: [f"{R}/activations/{s}.zarr" for s in CONSISTENCY_GROUPS[wc.group]],
    output:
        f"{R}/consistency/{{group}}.csv",
    log:
        f"{LOGS}/consistency/{{group}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("consistency"),
    params:
        software=SOFTWARE,
        stores=lambda wc: CONSISTENCY_GROUPS[wc.group],
        split=ANALYSES["consistency"]["split"],
    script:
        "../../scripts/consistency.py"


rule rsa:
    """Layer × layer RSA between the RDMs of every pair of models on one recording, its
    condition-permutation null, and the noise ceiling of the RDM-vs-oracle scores per seed
    group."""
    input:
        lambda wc: [f"{R}/rdm/{s}.npz" for s in RECORDINGS[wc.recording]],
    output:
        f"{R}/rsa/{{recording}}.csv",
    log:
        f"{LOGS}/rsa/{{recording}}.log",
    conda:
        ENV_CPU
    threads: 1
    resources:
        mem_mb=memory_request("rsa"),
    params:
        software=SOFTWARE,
        stores=lambda wc: RECORDINGS[wc.recording],
        comparator=ANALYSES["rdm"]["comparator"],
        rdm_metric=ANALYSES["rdm"]["metric"],
        nulls=NULLS,
        seed_groups=recording_seed_groups,
    script:
        "../../scripts/rsa.py"


rule attribution:
    """Attribution maps (which neurons drive which latent) of one model and session."""
    input:
        model=model_file,
        dataset=store_dataset,
    output:
        table=f"{R}/attribution/{{store}}.csv",
        arrays=f"{R}/attribution/{{store}}.npz",
    log:
        f"{LOGS}/attribution/{{store}}.log",
    conda:
        ENV_GPU
    threads: ANALYSES["attribution"]["threads"]
    resources:
        mem_mb=memory_request("attribution"),
        gpu=1,
    params:
        software=SOFTWARE,
        options=job_settings("attribution", ANALYSES["attribution"]),
        session=lambda wc: STORES[wc.store][1],
        model_session=lambda wc: store_model_session(
            MODELS[STORES[wc.store][0]], STORES[wc.store][1]
        ),
        device=CFG["device"],
        trust=CFG["trust_model_files"],
    script:
        "../../scripts/attribution.py"
