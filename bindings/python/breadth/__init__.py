"""breadth: many different good answers from language models.

The heavy lifting happens in the C++ library; this package is a thin, Pythonic layer over it.
Long calls release the GIL, tensors come back as ``torch.Tensor``, and C++ errors arrive as
``ValueError`` (bad arguments) or ``breadth.Error`` (a ``RuntimeError``) with the same message.

>>> import breadth
>>> lm = breadth.Model("smollm2-135m-instruct.gguf")
>>> dec = breadth.BacoDecoder(lm, lm)
>>> res = dec.generate("Name a colour.", rule="p-punc:0.3", n=4, max_new_tokens=16)
>>> res            # in a notebook: a table with the base model's tokens highlighted
"""

import torch  # noqa: F401  (loads libtorch before the extension that links it)

from ._breadth import *  # noqa: F401,F403
from ._breadth import Error, __version__  # noqa: F401
from . import notebook as _notebook
from .notebook import plot_sweep, sweep_table  # noqa: F401

_notebook.install()
