"""Progress reporting for long calls: a tqdm bar when tqdm is installed, or the caller's function."""


class _Bar:
    """Adapts tqdm to breadth's (done, total, label) -> continue callbacks."""

    def __init__(self, label):
        from tqdm.auto import tqdm

        self._tqdm = tqdm(desc=label, total=None, leave=False)

    def __call__(self, done, total, label):
        bar = self._tqdm
        if total and bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)
        return True

    def close(self):
        self._tqdm.close()


class _Call:
    """A user callable; returning None means "continue"."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, done, total, label):
        r = self._fn(done, total, label)
        return True if r is None else bool(r)


def make(progress, label):
    """None/False -> None; True -> a tqdm bar (None when tqdm is missing); callable -> itself."""
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            return _Bar(label)
        except ImportError:
            return None
    if callable(progress):
        return _Call(progress)
    raise TypeError(f"progress must be None, a bool or a callable(done, total, label), got {type(progress).__name__}")
