"""breadth: many different good answers from language models.

The heavy lifting happens in the C++ library; this package is a thin, Pythonic layer over it.
Long calls release the GIL, tensors come back as ``torch.Tensor``, and C++ errors arrive with the
same message as ``breadth.Error`` (a ``RuntimeError``) subclasses, one per error code:
``InvalidArgumentError`` (also a ``ValueError``), ``IoError``, ``FormatError``, ``UnsupportedError``,
``NumericError``, ``CancelledError``, ``InternalError``; each carries ``.code``, the C API's status.

>>> import breadth
>>> lm = breadth.Model("smollm2-135m-instruct.gguf")
>>> dec = breadth.BacoDecoder(lm, lm)
>>> res = dec.generate("Name a colour.", rule="p-punc:0.3", n=4, max_new_tokens=16)
>>> res            # in a notebook: a table with the base model's tokens highlighted
"""

import torch  # noqa: F401  (loads libtorch before the extension that links it)

from ._breadth import *  # noqa: F401,F403
from ._breadth import (  # noqa: F401
    CancelledError,
    Error,
    FormatError,
    InternalError,
    InvalidArgumentError,
    IoError,
    NumericError,
    UnsupportedError,
    __version__,
)
from . import notebook as _notebook
from .notebook import plot_sweep, sweep_table  # noqa: F401

_notebook.install()
