"""Datasets from your own files (`data=ts`, `data=csv`, `data=npz`): read, then assembled the same way.

Every function takes the shared options of `zoo.data.raw.assemble_dataset` as keywords:
`horizon`, `val_fraction`, `test_fraction`, `missing`, `max_series` and `seed`.
"""

import functools
import inspect

from zoo.data.csv_format import read_long_csv
from zoo.data.npz_format import read_npz
from zoo.data.raw import assemble_dataset
from zoo.data.ts_format import read_ts


def takes_assembly_options(loader):
    """Gives `loader(..., **options)` a signature that lists `assemble_dataset`'s options by name.

    Config checks read signatures to refuse unknown keys; this keeps `**options` honest about what it takes.
    """
    own = [p for p in inspect.signature(loader).parameters.values() if p.kind is not p.VAR_KEYWORD]
    shared = [
        p.replace(kind=p.KEYWORD_ONLY)
        for p in inspect.signature(assemble_dataset).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    ]

    @functools.wraps(loader)
    def wrapper(*args, **kwargs):
        return loader(*args, **kwargs)

    wrapper.__signature__ = inspect.Signature(own + shared)
    return wrapper


@takes_assembly_options
def ts_dataset(*, train_path, test_path=None, **options):
    """Loads UCR/UEA `.ts` files. Returns a SeriesDataset."""
    return assemble_dataset(read_ts(train_path), read_ts(test_path) if test_path else None, **options)


@takes_assembly_options
def csv_dataset(
    *,
    train_path,
    test_path=None,
    id_column="series_id",
    time_column="time",
    feature_columns=("value",),
    label_column=None,
    target_column=None,
    static_columns=(),
    **options,
):
    """Loads long-format CSV files (one row per series and step; see `read_long_csv`). Returns a SeriesDataset."""
    columns = dict(
        id_column=id_column,
        time_column=time_column,
        feature_columns=list(feature_columns),
        label_column=label_column,
        target_column=target_column,
        static_columns=list(static_columns or ()),
    )
    return assemble_dataset(
        read_long_csv(train_path, **columns), read_long_csv(test_path, **columns) if test_path else None, **options
    )


@takes_assembly_options
def npz_dataset(*, train_path, test_path=None, y_type="class", **options):
    """Loads `.npz` files with `X` `(N, T, F)`, `y`, optional `lengths` and `static`. Returns a SeriesDataset."""
    return assemble_dataset(
        read_npz(train_path, y_type=y_type), read_npz(test_path, y_type=y_type) if test_path else None, **options
    )
