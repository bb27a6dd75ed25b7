"""Figures drawn from the results table (and the model sheet joined to it) or from the
arrays an analysis saved; one module per analysis.

:data:`FIGURES` maps the name of each figure drawn from ``summary.csv`` (the ``summary_figure``
of an analysis in :data:`cebra_lens_core.analyses.REGISTRY`) to the function that draws it
from the summary (joined with the model sheet by :func:`cebra_lens_core.results.join_model_sheet`).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import pandas as pd

from cebra_lens_core.plots.alignment import plot_alignment
from cebra_lens_core.plots.attribution import plot_attribution_summary
from cebra_lens_core.plots.consistency import plot_consistency
from cebra_lens_core.plots.decoding import plot_decoding
from cebra_lens_core.plots.dimensionality import plot_participation_ratio
from cebra_lens_core.plots.distance import plot_distances
from cebra_lens_core.plots.goodness_of_fit import plot_goodness_of_fit
from cebra_lens_core.plots.rdm import plot_oracle_similarity
from cebra_lens_core.plots.similarity import plot_similarity_grounding

#: figure name -> ``draw(summary) -> Figure``
FIGURES: dict[str, Callable[[pd.DataFrame], plt.Figure]] = {
    "rdm_oracle": plot_oracle_similarity,
    "distance": plot_distances,
    "decoding": plot_decoding,
    "dimensionality": plot_participation_ratio,
    "consistency": plot_consistency,
    "goodness_of_fit": plot_goodness_of_fit,
    "attribution_summary": plot_attribution_summary,
    "alignment": plot_alignment,
    "similarity_grounding": plot_similarity_grounding,
}
