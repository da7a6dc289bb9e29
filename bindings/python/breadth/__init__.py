"""breadth: many different good answers from language models.

The heavy lifting happens in the C++ library; this package is a thin, Pythonic layer over it.
Long calls release the GIL, tensors come back as ``torch.Tensor``, and C++ errors arrive as
``ValueError`` (bad arguments) or ``breadth.Error`` (a ``RuntimeError``) with the same message.
"""

import torch  # noqa: F401  (loads libtorch before the extension that links it)

from ._breadth import *  # noqa: F401,F403
from ._breadth import Error, __version__  # noqa: F401
