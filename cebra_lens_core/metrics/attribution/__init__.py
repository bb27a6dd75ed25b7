r"""Attribution maps of CEBRA encoders and their scores against a known latent × neuron map.

Schneider et al., AISTATS 2025 ("Time-series attribution maps with regularized contrastive
learning"); CEBRA 0.6.1 ``cebra.attribution``.

What is computed
----------------
For an encoder ``f: x ↦ f(x) ∈ R^D`` (the embedding of one session, or a linear read-out of
it, see *Comparing with a ground truth* below) and a sample ``x`` (the input of one embedding
row), every method gives a ``D × N`` per-sample map ``a(x)`` (output dimension × neuron).
Methods (the strings accepted by ``methods``):

- ``"jacobian"``: ``J_f(x) ∈ R^{D×N}``, ``J_dn = ∂f_d/∂x_n`` (CEBRA's "jacobian-based" /
  "neuron gradient"), computed in float64;
- ``"jacobian_inv_lsq"`` and ``"jacobian_inv_svd"``: the paper's method, the Moore–Penrose
  pseudo-inverse ``J_f(x)^+ ∈ R^{N×D}``, transposed to ``D × N``, obtained by least squares
  (``scipy.linalg.lstsq(J, I_D, cond=rcond)``, the minimum-norm solution of ``J X = I``)
  or by SVD (``numpy.linalg.pinv(J, rcond)``); both give the same matrix up to rounding;
- ``"neuron_gradient"``: the Jacobian again, through captum's ``NeuronGradient`` in the
  encoder's own precision (CEBRA's "neuron-gradient"); a cross-check, not in
  :data:`DEFAULT_METHODS`;
- ``"feature_ablation"``: ``f(x) − f(x with neuron n set to the baseline)`` (captum
  ``NeuronFeatureAblation``, CEBRA's "feature-ablation");
- ``"integrated_gradients"``: ``(x − x₀) ⊙ ∫₀¹ ∇f(x₀ + α(x − x₀)) dα`` with baseline ``x₀``,
  ``ig_steps`` Gauss–Legendre nodes (captum ``NeuronIntegratedGradients``);
- ``"gradient_shap"``: the expectation of ``(x − x₀) ⊙ ∇f(x₀ + α(x − x₀))`` over random
  ``α ~ U(0, 1)`` and baselines ``x₀`` (captum ``NeuronGradientShap``, ``shap_samples`` draws
  per sample, ``shap_baselines`` "zeros" or "shuffle").

Aggregation over samples: ``maps[m] = mean_x |a(x)|`` (``D × N``, the paper's map) and
``maps[m + "_signed"] = mean_x a(x)``; ``neuron_norms[m] = mean_x ||a(x)_{:, n}||₂`` (``N``),
a per-neuron score that is invariant to orthogonal transforms of the embedding.

Samples, windows and conv models
--------------------------------
A sample is an embedding row ``t`` of the session (``transform()`` row ``t``). For a model
with offset ``(left, right)`` and ``W = left + right`` input bins (``W = 1`` for
``offset1-model*``) its input is the window ``x[t − left : t + right]`` (``N × W``); only
rows whose window lies inside the recording are used, ``t ∈ [left, T − right]`` (no padding),
as in CEBRA's ``AttributionMap``. At most ``max_samples`` rows are drawn without replacement
with ``numpy.random.default_rng(seed)`` (sorted; all rows when ``max_samples`` is ``None`` or
not smaller) and processed in mini-batches of ``batch_size`` rows, so memory is bounded by
``batch_size`` whatever ``T``: the per-sample maps are summed batch by batch and never stored.
Peak forward batch: ``batch_size`` (Jacobian, neuron gradient, integrated gradients with
``internal_batch_size = batch_size``), ``batch_size · shap_samples`` (gradient SHAP) and
``batch_size · ablation_per_eval`` (feature ablation).

The attribution of neuron ``n`` in a window of ``W`` bins is the effect of the *same*
perturbation of neuron ``n`` in all ``W`` bins of the window:

- gradient methods: the sum over the window, ``Σ_τ ∂f_d/∂x_{n,τ}`` (the directional
  derivative along a constant change of neuron ``n``); integrated gradients and gradient
  SHAP likewise sum over the window (the attribution of the group of ``W`` inputs, which
  keeps IG's completeness ``Σ_n a_dn = f_d(x) − f_d(x₀)``);
- feature ablation: neuron ``n`` is set to the baseline in all ``W`` bins at once (one
  captum feature group per neuron).

CEBRA instead averages the per-bin maps over the window (``_reduce_attribution_map``) and
ablates every (neuron, bin) separately. The window mean is the window sum divided by
``W``: the same AUC, but a pseudo-inverse ``W`` times larger.

What is taken from CEBRA and what not (CEBRA 0.6.1)
----------------------------------------------------
Used: ``cebra.attribution._jacobian.compute_jacobian`` (on a float64 copy of the encoder:
it casts the model it is given in place) and the captum-based classes
``NeuronGradientMethodBatched``, ``FeatureAblationMethod``, ``IntegratedGradientsMethod`` and
``NeuronGradientShapMethod``, called once per mini-batch on a plain ``nn.Module`` view of the
encoder fed with ready-made windows.

Replaced, and why:

- sampling and batching: ``AttributionMap.__post_init__`` subsamples only convolutional
  models (``num_samples`` is silently ignored for ``offset1-model``), draws the subsample
  with its own generator, and the "batched" classes still keep every per-sample map in
  memory (``np.vstack``); ``JFMethodBased`` does not set ``requires_grad`` on its input
  (``compute_attribution_map`` fails unless the caller passes a tensor requiring grad) and
  ``JFMethodBasedBatched`` refuses a batch larger than the data;
- the pseudo-inverse: ``AttributionMap._inverse`` uses ``scipy.linalg.lstsq`` with the
  default cut-off (machine epsilon) and ``scipy.linalg.pinv`` with its default, on a float32
  Jacobian. A normalised (cosine) encoder ends in ``f = g/‖g‖``, whose Jacobian
  ``(I − f fᵀ) J_g / ‖g‖`` has rank ``D − 1`` (``fᵀ J = 0``): one singular value is zero and
  appears as rounding noise (≈ 1e-8 · σ_max in float32). ``lstsq`` inverts it: on a trained
  ``offset10-model`` (D = 8) CEBRA's ``jf-inv-lsq`` reaches entries of 5·10⁸, i.e. it is the
  term ``v uᵀ/σ_min`` of that noise direction (whose neuron profile is the float32 rounding
  residual of ``fᵀJ``, roughly proportional to the column sizes of ``J``, so it can still
  rank neurons well) and not the pseudo-inverse; CEBRA's ``jf-inv-svd`` (``pinv`` with a
  float32-based cut-off) drops it. Here the Jacobian is float64 and both inverses drop
  singular values below ``rcond · σ_max`` (default ``1e-8``), so "lsq" and "svd" agree;
- the aggregation: CEBRA returns per-sample maps (window-averaged for conv models) and
  leaves the mean over samples to the caller; ``_reduce_attribution_map`` also inverts the
  mean-``|J|`` map ("convabs"), which is not a Jacobian;
- ``NeuronGradientShapMethod(baselines="shuffle")`` permutes with the global torch generator;
  here every batch runs under ``torch.random.fork_rng`` seeded from ``(seed, batch)``;
- the Moore–Penrose check: ``check_moores_penrose_conditions`` uses ``np.allclose`` with its
  absolute default tolerance (``1e-8``), which depends on the scale of the Jacobian; see
  :func:`moore_penrose_conditions` for the relative version used here;
- ``"lsq_cvxpy"`` (the only use of ``cvxpy``) is not offered: it solves the same least
  squares problem iteratively (and ``_inverse`` calls the ``tqdm`` module, which fails).

``import cebra.attribution`` imports ``cvxpy`` at module level. ``cvxpy`` and ``captum`` are
the ``attribution`` extra of this package (``pip install "cebra_lens_core[attribution]"``);
without them :func:`compute_attribution` raises an :class:`ImportError` saying so
(:func:`import_cebra_attribution`), and importing this module still works.

Comparing with a ground truth
-----------------------------
The ground truth is a boolean latent × neuron map ``G`` (``G[j, n]``: latent ``j`` drives
neuron ``n``). CEBRA embeddings are identifiable only up to a linear (for cosine models an
orthogonal) transform, so embedding dimension ``d`` is not latent ``j`` and a ``D × N``
map cannot be compared with ``G`` entry by entry. Two comparisons are sound:

1. neuron level (no alignment needed): the score of neuron ``n`` is ``max_d |A|_dn`` of the
   ``D × N`` map (:func:`neuron_scores`), or the rotation-invariant ``neuron_norms``; the
   truth is "driven by any latent", ``G.any(axis=0)``;
2. entry level after alignment: fit the linear read-out ``ẑ = f(x) B + c`` of the true
   latents from the embedding on the training split (:func:`latent_readout`, least
   squares), then compute the maps of ``x ↦ f(x) B`` (``readout=B``). By the chain rule
   its Jacobian is ``Bᵀ J_f``, and all other methods are linear in the output too, so row
   ``j`` is the attribution to the estimated latent ``j``: ``K × N`` maps scored against
   ``G`` over all entries. The pseudo-inverse of ``Bᵀ J_f`` (``N × K``) is then the
   estimate of the mixing Jacobian ``∂x/∂z`` whose support ``G`` is. Without alignment the
   pseudo-inverse ``Jᵀ(JJᵀ)⁺`` of a ``D × N`` Jacobian with ``D`` larger than the number of
   latents (+1 for the sphere) weights the weak embedding directions, which carry nuisance
   and noise, by ``1/σ``: on the ``attribution`` benchmark (offset10-model, 1000
   iterations) its neuron-level AUC is 0.62 with ``D = 8`` but 0.995 with ``D = 4``, and
   0.90 / 0.91 over all entries after alignment (``tests/benchmarks/bench_attribution.py``).

Scores (:func:`score_map`): ROC-AUC over the entries of ``|A|`` (``sklearn.metrics.
roc_auc_score``; the sign of a signed map is not evidence of connectivity) and the gaps
between connected and non-connected values, as CEBRA's ``compute_metrics``.
"""

from cebra_lens_core.metrics.attribution.methods import (
    DEFAULT_METHODS,
    INVERSE_METHODS,
    JACOBIAN_METHODS,
    METHODS,
    MOORE_PENROSE_CONDITIONS,
    AttributionResult,
    compute_attribution,
    import_cebra_attribution,
    moore_penrose_conditions,
    pseudo_inverse,
)
from cebra_lens_core.metrics.attribution.scores import (
    block_readout,
    gap_metrics,
    latent_readout,
    neuron_ground_truth,
    neuron_scores,
    roc_auc,
    score_attribution,
    score_map,
)

__all__ = [
    "DEFAULT_METHODS",
    "INVERSE_METHODS",
    "JACOBIAN_METHODS",
    "METHODS",
    "MOORE_PENROSE_CONDITIONS",
    "AttributionResult",
    "block_readout",
    "compute_attribution",
    "gap_metrics",
    "import_cebra_attribution",
    "latent_readout",
    "moore_penrose_conditions",
    "neuron_ground_truth",
    "neuron_scores",
    "pseudo_inverse",
    "roc_auc",
    "score_attribution",
    "score_map",
]
