"""A reader for NumPy `.npz` files: `X` `(N, T, F)`, `y`, optional `lengths` and `static`."""

from pathlib import Path

import numpy as np

from zoo.data.raw import RawSeries
from zoo.errors import ZooError
from zoo.validation import one_of


def read_npz(path, *, y_type="class"):
    """Reads series from an `.npz` file.

    Args:
        path: path of the file.
        y_type: "class" (`y` holds labels, any dtype), "regression" (`y` holds numbers) or
            "none" (no `y`; for forecasting).

    Returns:
        A RawSeries; with `lengths`, series `i` is `X[i, :lengths[i]]` (right-padded input).
    """
    one_of("y_type", y_type, ["class", "regression", "none"])
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file; check the path (relative paths start at the directory you run from).")
    try:
        arrays = dict(np.load(path, allow_pickle=False))
    except Exception as error:  # NumPy raises several types for a damaged archive
        raise ZooError(f"{path}: not a readable .npz file ({type(error).__name__}); it may be truncated.") from error
    if "X" not in arrays:
        raise ZooError(f"{path}: no array 'X'; the file holds {sorted(arrays)}. Save the series as X with shape (N, T, F).")
    series = arrays["X"]
    if series.ndim != 3:
        raise ZooError(f"{path}: X must have shape (N, T, F), got {series.shape}.")
    if not np.issubdtype(series.dtype, np.number):
        raise ZooError(f"{path}: X must be numeric, got dtype {series.dtype}.")
    count, timesteps = series.shape[:2]
    if count == 0:
        raise ZooError(f"{path}: X holds no series.")
    lengths = arrays.get("lengths", np.full(count, timesteps))
    if lengths.shape != (count,) or lengths.min() < 1 or lengths.max() > timesteps:
        raise ZooError(f"{path}: lengths must be {count} integers in [1, {timesteps}], got shape {lengths.shape}.")
    static = arrays.get("static")
    if static is not None and (static.ndim != 2 or len(static) != count):
        raise ZooError(f"{path}: static must have shape (N={count}, n_static), got {static.shape}.")
    labels = targets = None
    if y_type != "none":
        if "y" not in arrays:
            raise ZooError(f"{path}: no array 'y'; add labels as y or set data.y_type=none.")
        y = arrays["y"]
        if y.shape != (count,):
            raise ZooError(f"{path}: y must have shape ({count},) to match X, got {y.shape}.")
        if y_type == "class":
            labels = [str(value) for value in y.tolist()]
        else:
            targets = y.astype("float64")
    return RawSeries(
        series=[series[i, : lengths[i]].astype("float64") for i in range(count)],
        labels=labels,
        targets=targets,
        static=None if static is None else static.astype("float64"),
        origins=[f"{path}, series {i}" for i in range(count)],
        source=str(path),
    )
