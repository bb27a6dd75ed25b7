"""The workflow side of the package: the only code that reads the config.

- :mod:`~cebra_lens_core.pipeline.config`: schema validation with defaults, quick mode, seed
  and sweep expansion into model entries, start-up cross-checks (:func:`prepare_config`);
- :mod:`~cebra_lens_core.pipeline.plan`: stores, pairs, seed groups, recordings, CKA jobs and
  the per-job parameters the Snakemake rules pass;
- :mod:`~cebra_lens_core.pipeline.job`: what every script does first (:func:`setup_job`).

Nothing here imports torch or cebra at module level, so planning a run (``snakemake -n``)
stays fast.
"""
