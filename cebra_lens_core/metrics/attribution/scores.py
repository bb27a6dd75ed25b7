"""Scoring attribution maps against a ground-truth connectivity (see
:mod:`cebra_lens_core.metrics.attribution`): the latent read-out that aligns a map to the true
latents, ROC-AUC and the gaps between connected and non-connected entries."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cebra_lens_core.metrics.attribution.methods import AttributionResult

# --------------------------------------------------------------------------- alignment


def latent_readout(embedding: np.ndarray, latents: np.ndarray) -> np.ndarray:
    """Least-squares read-out ``B`` (``D × K``) of true latents from an embedding.

    Fits ``latents ≈ embedding @ B + c`` (with intercept ``c``) by ordinary least squares
    (minimum-norm solution via ``numpy.linalg.lstsq``). Pass ``B`` as ``readout`` to
    :func:`compute_attribution` to get maps whose row ``j`` is the attribution to the
    estimated latent ``j``. Fit it on the training split.

    Args:
        embedding: ``(T, D)``.
        latents: ``(T, K)`` (or ``(T,)``).
    """
    E = np.asarray(embedding, dtype=np.float64)
    Z = np.asarray(latents, dtype=np.float64)
    if Z.ndim == 1:
        Z = Z[:, None]
    if E.ndim != 2 or Z.ndim != 2 or E.shape[0] != Z.shape[0]:
        raise ValueError(
            f"expected embedding (T, D) and latents (T, K) with the same T, got "
            f"{E.shape} and {Z.shape}"
        )
    if not (np.isfinite(E).all() and np.isfinite(Z).all()):
        raise ValueError("embedding and latents must be finite")
    Ec = E - E.mean(axis=0)
    Zc = Z - Z.mean(axis=0)
    B, *_ = np.linalg.lstsq(Ec, Zc, rcond=None)
    return B


def block_readout(
    embedding: np.ndarray,
    latents: np.ndarray,
    blocks: list[tuple[tuple[int, int], list[int]]],
) -> np.ndarray:
    """Read-out ``B`` (``D × K``) that reads each group of latents from its own embedding part.

    For every block ``((a, b), cols)``, ``B[a:b, cols] = latent_readout(embedding[:, a:b],
    latents[:, cols])`` and the other entries of those columns are 0: latent ``j`` in
    ``cols`` is estimated from dimensions ``[a, b)`` only (xCEBRA: behaviour latents from the
    behaviour part, time latents from the time part). Columns in no block are read from the
    whole embedding (:func:`latent_readout`).
    """
    E = np.asarray(embedding, dtype=np.float64)
    Z = np.asarray(latents, dtype=np.float64)
    if Z.ndim == 1:
        Z = Z[:, None]
    B = latent_readout(E, Z)
    for (a, b), cols in blocks:
        if not 0 <= a < b <= E.shape[1]:
            raise ValueError(f"embedding part [{a}, {b}) is outside 0..{E.shape[1]}")
        B[:, cols] = 0.0
        B[a:b, cols] = latent_readout(E[:, a:b], Z[:, cols])
    return B


# --------------------------------------------------------------------------- scores


def _check_pair(attribution_map: np.ndarray, ground_truth: np.ndarray):
    A = np.asarray(attribution_map, dtype=np.float64)
    G = np.asarray(ground_truth)
    if G.dtype != bool:
        if not np.isin(G, (0, 1)).all():
            raise ValueError("ground_truth must be boolean (or 0/1)")
        G = G.astype(bool)
    if A.shape != G.shape:
        raise ValueError(
            f"attribution map of shape {A.shape} does not match ground truth of shape {G.shape}"
        )
    if not np.isfinite(A).all():
        raise ValueError("the attribution map holds NaN/inf values")
    return A, G


def roc_auc(attribution_map: np.ndarray, ground_truth: np.ndarray) -> float:
    """ROC-AUC of ``|attribution_map|`` against the boolean ``ground_truth`` (all entries).

    The absolute value is taken: a large negative attribution is as much evidence of a
    connection as a large positive one (CEBRA scores its ``|·|``-averaged maps). Ties count
    one half (``sklearn.metrics.roc_auc_score``). NaN when the ground truth is all True or
    all False.
    """
    # deferred: scikit-learn, loaded only on this path
    from sklearn.metrics import roc_auc_score

    A, G = _check_pair(attribution_map, ground_truth)
    if G.all() or not G.any():
        return float("nan")
    return float(roc_auc_score(G.ravel(), np.abs(A).ravel()))


def gap_metrics(attribution_map: np.ndarray, ground_truth: np.ndarray) -> dict[str, float]:
    """Connected vs non-connected values of ``|attribution_map|`` (CEBRA's ``compute_metrics``).

    Returns:
        ``{max,mean,min}_connected``, ``{max,mean,min}_nonconnected``, ``gap_max``,
        ``gap_mean``, ``gap_min`` (connected minus non-connected of each statistic) and
        ``gap_minmax = min_connected − max_nonconnected`` (> 0: the map separates the two
        groups perfectly). NaN where a group is empty.
    """
    A, G = _check_pair(attribution_map, ground_truth)
    A = np.abs(A)
    out: dict[str, float] = {}
    for name, values in (("connected", A[G]), ("nonconnected", A[~G])):
        for stat in ("max", "mean", "min"):
            out[f"{stat}_{name}"] = float(getattr(np, stat)(values)) if values.size else math.nan
    for stat in ("max", "mean", "min"):
        out[f"gap_{stat}"] = out[f"{stat}_connected"] - out[f"{stat}_nonconnected"]
    out["gap_minmax"] = out["min_connected"] - out["max_nonconnected"]
    return out


def score_map(attribution_map: np.ndarray, ground_truth: np.ndarray) -> dict[str, float]:
    """``{"auc": roc_auc(...), **gap_metrics(...)}``."""
    return {
        "auc": roc_auc(attribution_map, ground_truth),
        **gap_metrics(attribution_map, ground_truth),
    }


def neuron_scores(attribution_map: np.ndarray) -> np.ndarray:
    """Per-neuron score ``max_d |A|_dn`` of a ``(D, N)`` map (``(N,)``)."""
    A = np.asarray(attribution_map, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"expected a (D, N) map, got shape {A.shape}")
    return np.abs(A).max(axis=0)


def neuron_ground_truth(ground_truth: np.ndarray) -> np.ndarray:
    """``(N,)`` True where any latent drives the neuron (``ground_truth.any(axis=0)``)."""
    G = np.asarray(ground_truth)
    if G.ndim != 2:
        raise ValueError(f"expected a (latents, neurons) map, got shape {G.shape}")
    return G.astype(bool).any(axis=0)


def score_attribution(
    result: AttributionResult, ground_truth: np.ndarray, rows: list[int] | None = None
) -> list[dict[str, Any]]:
    """Score every method of ``result`` against a ``(K, N)`` boolean latent × neuron map.

    ``rows``: score only these rows of the maps and of ``ground_truth`` (one group of
    latents, e.g. xCEBRA's behaviour latents); the ``neuron_norm`` level, a norm over all
    rows of the map, is then left out.

    Rows (one per method and level), each ``{"method", "level", "auc", gap metrics...}``:

    - ``level="neuron_max"``: :func:`neuron_scores` of the ``|·|`` map vs
      :func:`neuron_ground_truth`;
    - ``level="neuron_norm"``: ``result.neuron_norms`` vs the same neuron truth;
    - ``level="entries"``: every entry of the ``|·|`` map vs ``ground_truth``; only when the
      maps were computed with a ``readout`` to the latents (``info["output"] ==
      "readout"``) and have ``K`` rows: entries of an unaligned embedding map have no
      correspondence with latents.
    """
    truth = np.asarray(ground_truth).astype(bool)
    aligned = result.info.get("output") == "readout"
    selected = slice(None) if rows is None else list(rows)
    if rows is not None and not (aligned and result.maps[result.methods[0]].shape == truth.shape):
        raise ValueError("rows can only be scored on maps aligned to the ground-truth latents")
    truth_rows = truth[selected]
    per_neuron = neuron_ground_truth(truth_rows)
    out: list[dict[str, Any]] = []
    for method in result.methods:
        full = result.maps[method]
        amap = full[selected]
        levels = [("neuron_max", neuron_scores(amap), per_neuron)]
        if rows is None:
            levels.append(("neuron_norm", result.neuron_norms[method], per_neuron))
        if aligned and full.shape == truth.shape:
            levels.append(("entries", amap, truth_rows))
        for level, values, target in levels:
            out.append({"method": method, "level": level, **score_map(values, target)})
    return out
