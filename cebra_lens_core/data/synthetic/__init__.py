"""Synthetic recordings with known latent structure, one module per generator.

Five generators, each returning a validated :class:`~cebra_lens_core.data.types.Dataset`:

- :mod:`~cebra_lens_core.data.synthetic.hippocampus`: rat on a linear track, place cells;
- :mod:`~cebra_lens_core.data.synthetic.visual`: visual-cortex responses to a repeated movie;
- :mod:`~cebra_lens_core.data.synthetic.lorenz`: random embedding of the Lorenz attractor;
- :mod:`~cebra_lens_core.data.synthetic.circle`: random embedding of a point on a circle;
- :mod:`~cebra_lens_core.data.synthetic.attribution`: known latent × neuron map (attribution
  ground truth);
- :mod:`~cebra_lens_core.data.synthetic._common`: what they share (parameter checks, seeding
  and sessions, smooth noise, random embeddings, the split and the metadata).

:data:`GENERATORS` maps each generator name (the ``source`` key in the config) to its function.
"""

from __future__ import annotations

from cebra_lens_core.data.synthetic._common import (
    NEURONS_PER_SESSION,
    lognormal_gain,
    random_connectivity,
    random_nonlinear_embedding,
    smooth_noise,
)
from cebra_lens_core.data.synthetic.attribution import ATTRIBUTION_LATENTS, attribution
from cebra_lens_core.data.synthetic.circle import circle
from cebra_lens_core.data.synthetic.hippocampus import (
    hippocampus,
    linear_track_trajectory,
    place_cell_rates,
)
from cebra_lens_core.data.synthetic.lorenz import (
    LORENZ_BETA,
    LORENZ_RHO,
    LORENZ_SIGMA,
    integrate_lorenz,
    lorenz,
)
from cebra_lens_core.data.synthetic.visual import movie_features, softplus, visual

__all__ = [
    "ATTRIBUTION_LATENTS",
    "GENERATORS",
    "LORENZ_BETA",
    "LORENZ_RHO",
    "LORENZ_SIGMA",
    "NEURONS_PER_SESSION",
    "attribution",
    "circle",
    "hippocampus",
    "integrate_lorenz",
    "linear_track_trajectory",
    "lognormal_gain",
    "lorenz",
    "movie_features",
    "place_cell_rates",
    "random_connectivity",
    "random_nonlinear_embedding",
    "smooth_noise",
    "softplus",
    "visual",
]

#: Generator name (the ``source`` key in the config) -> function.
GENERATORS = {
    "hippocampus": hippocampus,
    "visual": visual,
    "lorenz": lorenz,
    "circle": circle,
    "attribution": attribution,
}
