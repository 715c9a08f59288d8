"""CTGAN: conditional tabular GAN (Xu et al., 2019).

Modules: :mod:`.networks` (residual generator, PacGAN critic), :mod:`.conditional`
(conditional vector, training-by-sampling), :mod:`.losses` (WGAN-GP, condition loss),
:mod:`.activation` (tanh / gumbel-softmax outputs) and :mod:`.model` (the :class:`CTGAN` class).
"""

from syntho_hive.core.models.ctgan.model import CTGAN

__all__ = ["CTGAN"]
