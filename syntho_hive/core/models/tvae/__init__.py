"""TVAE: variational autoencoder for tables (Xu et al., 2019, after Kingma & Welling, 2014).

Modules: :mod:`.networks` (encoder / decoder MLPs), :mod:`.losses` (span-aware
reconstruction loss + KL divergence) and :mod:`.model` (the :class:`TVAE` class).
"""

from syntho_hive.core.models.tvae.model import TVAE

__all__ = ["TVAE"]
