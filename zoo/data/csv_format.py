"""A reader for long-format CSV: one row per (series, time step), columns named in the config."""

import csv
import io
from pathlib import Path

import numpy as np

from zoo.data.raw import RawSeries
from zoo.data.text_files import read_utf8
from zoo.errors import ZooError


def number_cell(path, line, column, text):
    """A numeric cell as a float; empty, `?`, `NA` and `NaN` are missing (NaN); anything else is a one-line error."""
    try:
        return float(text) if text.strip() not in ("", "?", "NA", "NaN", "nan") else np.nan
    except ValueError:
        raise ZooError(f"{path}, line {line}: column {column!r} holds a non-numeric value {text!r}.") from None


def _time(path, line, column, text):
    """A time cell as a number: the number itself, or an ISO 8601 date or date-time in seconds since 1970."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(np.datetime64(text.strip(), "s").astype("int64"))
    except ValueError:
        raise ZooError(
            f"{path}, line {line}: column {column!r} holds {text!r}, neither a number nor an ISO 8601 date "
            "(YYYY-MM-DD, YYYY-MM-DDTHH:MM): write times in one of those forms."
        ) from None


def read_long_csv(path, *, id_column, time_column, feature_columns, label_column=None, target_column=None, static_columns=()):
    """Reads series from a long-format CSV file.

    Rows of one series share `id_column`; they are ordered by `time_column` (numbers, or ISO 8601
    dates and date-times). Empty cells,
    `?`, `NA` and `NaN` are missing values. Label, target and static columns must be constant
    within a series.

    Args:
        path: path of the file.
        id_column, time_column: str. Column names.
        feature_columns: list of str. The channels.
        label_column: str or None. Class labels (any strings).
        target_column: str or None. Regression targets.
        static_columns: list of str. Per-series covariates.

    Returns:
        A RawSeries, series in order of first appearance.
    """
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file; check the path (relative paths start at the directory you run from).")
    with io.StringIO(read_utf8(path, "CSV"), newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise ZooError(f"{path}: the file is empty.")
        wanted = [id_column, time_column, *feature_columns, *static_columns]
        wanted += [c for c in (label_column, target_column) if c]
        absent = [c for c in wanted if c not in reader.fieldnames]
        if absent and len(reader.fieldnames) == 1:  # not a CSV: its first line is not quoted, it may be anything (a crafted config's /etc/passwd)
            raise ZooError(f"{path}: its first line is not a comma-separated header, so it is not a CSV file: check data.train_path.")
        if absent:
            raise ZooError(f"{path}: no column {absent[0]!r}; the header has {reader.fieldnames}. Fix the data config's column names.")
        rows = {}
        for line, row in enumerate(reader, start=2):
            if None in row or any(row[c] is None for c in wanted):
                raise ZooError(f"{path}, line {line}: the row has a different number of cells than the header (truncated?).")
            entry = rows.setdefault(row[id_column], {"first_line": line, "steps": [], "constants": {}})
            time = _time(path, line, time_column, row[time_column])
            values = [number_cell(path, line, c, row[c]) for c in feature_columns]
            entry["steps"].append((time, values))
            constants = {c: row[c] for c in (label_column, target_column, *static_columns) if c}
            for column, value in constants.items():
                previous = entry["constants"].setdefault(column, value)
                if previous != value:
                    raise ZooError(f"{path}, line {line}: column {column!r} changes within series {row[id_column]!r} ({previous!r} then {value!r}); it must be constant per series.")
    if not rows:
        raise ZooError(f"{path}: the file has a header but no rows.")

    series, labels, targets, static, origins = [], [], [], [], []
    for series_id, entry in rows.items():
        steps = sorted(entry["steps"], key=lambda step: step[0])
        series.append(np.asarray([values for _, values in steps], dtype="float64"))
        origins.append(f"{path}, series {series_id!r} (line {entry['first_line']})")
        constants = entry["constants"]
        if label_column:
            labels.append(constants[label_column])
        if target_column:
            targets.append(number_cell(path, entry["first_line"], target_column, constants[target_column]))
        if static_columns:
            static.append([number_cell(path, entry["first_line"], c, constants[c]) for c in static_columns])
    return RawSeries(
        series=series,
        labels=labels or None,
        targets=np.asarray(targets) if target_column else None,
        static=np.asarray(static, dtype="float64") if static_columns else None,
        origins=origins,
        source=str(path),
        ids=[str(series_id) for series_id in rows],
    )
