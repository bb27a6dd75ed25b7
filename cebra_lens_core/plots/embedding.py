"""Embedding figures: the first embedding dimensions and a 3-D t-SNE, coloured by a label."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

#: fixed 3-D view so reruns give identical images
VIEW = {"elev": 20.0, "azim": -60.0}
#: marker area for ~1000+ points; larger for fewer points (up to 12)
POINT_SIZE = 2.0


def _point_size(n: int) -> float:
    return float(np.clip(2000.0 / max(n, 1), POINT_SIZE, 12.0))


def _is_discrete(values: np.ndarray) -> bool:
    return values.dtype.kind in "biuUSO"


#: markers of the classes of the marker label (e.g. running direction)
MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")


def _scatter(
    ax, coords: np.ndarray, colour: np.ndarray | None, discrete: bool, cmap, norm, marker="o"
):
    kwargs = {"s": _point_size(len(coords)), "linewidths": 0, "alpha": 0.8, "marker": marker}
    if colour is None:
        kwargs["color"] = "C0"
    elif discrete:
        classes = {c: k for k, c in enumerate(np.unique(colour))}
        kwargs["c"] = [cmap(classes[c] % cmap.N) for c in colour]
    else:
        kwargs.update(c=colour, cmap=cmap, norm=norm)
    return ax.scatter(*coords.T, **kwargs)


def plot_embedding(
    arrays: Mapping[str, np.ndarray],
    model: str,
    color_label: str | None = None,
    marker_label: str | None = None,
) -> plt.Figure:
    """Two views of one model's representation on the sampled time points:

    - the first three embedding dimensions (``arrays["embedding"]``; a 2-D plot for a 2-D
      embedding, the dimension against time for a 1-D one),
    - the 3-component t-SNE (``arrays["tsne"]``) of layer ``arrays["tsne_layer"]``,

    coloured by ``arrays["label/<color_label>"]`` (default: the first label found), with a
    colourbar (continuous label, with its unit from ``arrays["unit/<label>"]``) or a legend
    (discrete label). ``marker_label``: a discrete label whose classes get their own marker
    (e.g. the running direction, so one colour map serves both directions). Small points,
    fixed view.

    Raises:
        ValueError: no ``embedding``/``tsne`` array, or ``color_label`` is not in ``arrays``.
    """
    panels = [k for k in ("embedding", "tsne") if k in arrays]
    if not panels:
        raise ValueError(
            f"no 'embedding' or 'tsne' array for {model} (keys: {sorted(arrays)}); "
            "expected the arrays of the embedding analysis"
        )
    label_keys = [k for k in arrays if k.startswith("label/")]
    if color_label is None:
        key = label_keys[0] if label_keys else None
    else:
        key = f"label/{color_label}"
        if key not in arrays:
            raise ValueError(
                f"plot_embedding: no label {color_label!r} for {model}; available: "
                f"{[k.split('/', 1)[1] for k in label_keys]}"
            )
    colour = np.asarray(arrays[key]) if key else None
    name = key.split("/", 1)[1] if key else ""
    unit = str(arrays.get(f"unit/{name}", "")) if name else ""
    markers = marker_name = marker_classes = None
    if marker_label is not None:
        if f"label/{marker_label}" not in arrays:
            raise ValueError(
                f"plot_embedding: no label {marker_label!r} for {model}; available: "
                f"{[k.split('/', 1)[1] for k in label_keys]}"
            )
        markers = np.asarray(arrays[f"label/{marker_label}"])
        marker_name, marker_classes = marker_label, np.unique(markers)
    discrete = colour is not None and _is_discrete(colour)
    cmap = plt.get_cmap("tab10" if discrete else "viridis")
    norm = None
    if colour is not None and not discrete:
        finite = colour[np.isfinite(colour)]
        norm = plt.Normalize(float(finite.min()), float(finite.max())) if finite.size else None

    fig = plt.figure(figsize=(5.0 * len(panels) + 1.4, 4.8), layout="constrained")
    mappable = None
    axes = []
    for k, panel in enumerate(panels):
        coords = np.asarray(arrays[panel], dtype=float)
        if coords.ndim == 1:
            coords = coords[:, None]
        dims = min(coords.shape[1], 3)
        if panel == "embedding":
            title = f"embedding (first {dims} dimensions)" if dims > 1 else "1-D embedding"
            axis_names = [f"dim {d + 1}" for d in range(dims)]
        else:
            layer = arrays.get("tsne_layer")
            where = f" of layer {int(layer)}" if layer is not None else ""
            title = f"3-D t-SNE{where}"
            axis_names = [f"t-SNE {d + 1}" for d in range(dims)]
        if dims == 1:
            time = np.asarray(arrays.get("time", np.arange(len(coords))))
            coords = np.column_stack([time, coords[:, 0]])
            axis_names = ["time (samples)", axis_names[0]]
            dims = 2
        if dims == 3:
            ax = fig.add_subplot(1, len(panels), k + 1, projection="3d")
            ax.view_init(**VIEW)
        else:
            ax = fig.add_subplot(1, len(panels), k + 1)
        axes.append(ax)
        if markers is None:
            groups = [(None, np.ones(len(coords), dtype=bool))]
        else:
            groups = [(c, markers == c) for c in marker_classes]
        for g, (cls, keep) in enumerate(groups):
            sc = _scatter(
                ax,
                coords[keep, :dims],
                None if colour is None else colour[keep],
                discrete,
                cmap,
                norm,
                marker=MARKERS[g % len(MARKERS)],
            )
            sc.set_gid(panel if cls is None else f"{panel}|{marker_name}={cls}")
            if not discrete and colour is not None:
                mappable = sc
        ax.set_xlabel(axis_names[0], fontsize=8)
        ax.set_ylabel(axis_names[1], fontsize=8)
        if dims == 3:
            ax.set_zlabel(axis_names[2], fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_title(title, fontsize=10)
    if mappable is not None:
        cbar = fig.colorbar(mappable, ax=axes, shrink=0.6)
        cbar.set_label(f"{name} ({unit})" if unit else name)
    if markers is not None:
        marker_handles = [
            Line2D(
                [],
                [],
                linestyle="none",
                marker=MARKERS[k % len(MARKERS)],
                color="0.3",
                label=f"{marker_name} {c}",
            )
            for k, c in enumerate(marker_classes)
        ]
        fig.legend(
            handles=marker_handles,
            loc="outside lower center",
            ncols=len(marker_handles),
            fontsize=8,
        )
    elif discrete:
        handles = [
            Line2D([], [], linestyle="none", marker="o", color=cmap(k % cmap.N), label=str(c))
            for k, c in enumerate(np.unique(colour))
        ]
        fig.legend(handles=handles, title=name, loc="outside right center", fontsize=8)
    n = len(np.asarray(arrays[panels[0]]))
    suffix = f", coloured by {name}" if name else ""
    suffix += f", marker by {marker_name}" if marker_name else ""
    fig.suptitle(f"{model}: {n} time points{suffix}", fontsize=11)
    return fig
