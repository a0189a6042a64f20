"""Readers for forecasting histories: a long CSV, a wide CSV (one row per series), a single-series CSV, and `.tsf`.

Each returns `Histories`: the series (one `(length, n_features)` array each, any lengths), their
ids, and, where the file has time stamps, the last one of each series and the step between two,
which date forecasts past the end and give the seasonal period.
"""

import csv
import dataclasses
import io
from pathlib import Path

import numpy as np

from zoo.data.csv_format import number_cell
from zoo.data.raw import RawSeries
from zoo.data.text_files import read_utf8
from zoo.errors import ZooError

TIME_NAMES = ("time", "date", "timestamp", "ds")
ID_NAMES = ("series_id", "id", "unique_id", "item_id")
DAY = 86_400.0
# Seasonal periods of the Monash archive's `@frequency` names (the period a frequency's data repeats over).
TSF_SEASONS = {
    "yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 7, "hourly": 24,
    "half_hourly": 48, "30_minutes": 48, "15_minutes": 96, "10_minutes": 144, "minutely": 1440,
}
TSF_STEPS = {  # seconds, or months for calendar steps
    "yearly": (12, "months"), "quarterly": (3, "months"), "monthly": (1, "months"), "weekly": (7 * DAY, "seconds"),
    "daily": (DAY, "seconds"), "hourly": (3600.0, "seconds"), "half_hourly": (1800.0, "seconds"),
    "30_minutes": (1800.0, "seconds"), "15_minutes": (900.0, "seconds"), "10_minutes": (600.0, "seconds"),
    "minutely": (60.0, "seconds"),
}


@dataclasses.dataclass
class Histories:
    """Series to forecast, as a file holds them.

    Args:
        raw: RawSeries with `ids`; NaN marks a missing value.
        last_times: list of the last time stamp per series (`numpy.datetime64` when dated, float
            otherwise), or None when the file has no time column.
        step: the time between two steps: `(amount, "seconds" | "months" | "units")`, or None.
        season_length: int. The seasonal period the time step implies (1 when it implies none,
            0 when the file gives no time at all).
    """

    raw: RawSeries
    last_times: list = None
    step: tuple = None
    season_length: int = 0

    @property
    def dated(self):
        return bool(self.last_times) and isinstance(self.last_times[0], np.datetime64)

    def future_times(self, index, horizon):
        """The `horizon` time stamps after series `index`'s last one (ISO 8601 text or numbers), or None."""
        if self.last_times is None or self.step is None:
            return None
        last, (amount, unit) = self.last_times[index], self.step
        times = advance(last, self.step, np.arange(1, horizon + 1))
        if unit == "units":
            return [f"{time:g}" for time in times]
        whole_days = last == last.astype("datetime64[D]") and (unit == "months" or amount % DAY == 0)
        return [str(time.astype("datetime64[D]")) if whole_days else str(time) for time in times]


def advance(time, step, counts):
    """`time` moved on by each of `counts` steps `(amount, "seconds" | "months" | "units")`: calendar months keep the day."""
    amount, unit = step
    if unit == "units":
        return [time + amount * k for k in counts]
    if unit == "months":
        offset = time - time.astype("datetime64[M]").astype(time.dtype)  # day and time within the month
        months = time.astype("datetime64[M]") + (np.asarray(counts) * int(amount)).astype("timedelta64[M]")
        return [month.astype(time.dtype) + offset for month in months]
    return [time + np.timedelta64(int(round(amount * k)), "s") for k in counts]


def _fail(path, line, problem):
    raise ZooError(f"{path}, line {line}: {problem}" if line else f"{path}: {problem}")


def _as_date(text):
    """An ISO 8601 date or date-time cell as `numpy.datetime64[s]`, or None (an empty cell reads as NaT)."""
    try:
        time = np.datetime64(text.strip().replace(" ", "T"), "s")
    except ValueError:
        return None
    return None if np.isnat(time) else time


def parse_time(path, line, column, text):
    """A time cell as a float or a `numpy.datetime64[s]` (ISO 8601 date or date-time)."""
    try:
        return float(text)
    except ValueError:
        pass
    time = _as_date(text)
    if time is None:
        _fail(path, line, f"column {column!r} holds {text!r}, neither a number nor an ISO 8601 date (YYYY-MM-DD, YYYY-MM-DDTHH:MM).")
    return time


def time_step(times):
    """The typical step of sorted time stamps `(amount, unit)`: calendar months where dates are 28 to 366 days apart."""
    if len(times) < 2:
        return None
    if isinstance(times[0], np.datetime64):
        seconds = float(np.median(np.diff(np.asarray(times, dtype="datetime64[s]")).astype("float64")))
        days = seconds / DAY
        for months, low, high in ((1, 28, 31), (3, 89, 92), (12, 365, 366)):
            if low <= days <= high:
                return (months, "months")
        return (seconds, "seconds")
    return (float(np.median(np.diff(times))), "units")


def season_for(step):
    """The seasonal period a time step implies: a day of sub-daily steps, a week of days, a year of weeks, months or quarters; else 1."""
    if step is None:
        return 1
    amount, unit = step
    if unit == "months":
        return {1: 12, 3: 4}.get(int(amount), 1)
    if unit != "seconds" or amount <= 0:
        return 1
    if amount < DAY and DAY % amount == 0:
        return int(DAY // amount)
    return {DAY: 7, 7 * DAY: 52}.get(amount, 1)


def _csv_rows(path):
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file; check the path (relative paths start at the directory you run from).")
    rows = list(csv.reader(io.StringIO(read_utf8(path, "CSV"), newline="")))
    if not rows or not rows[0]:
        raise ZooError(f"{path}: the file is empty.")
    if len(rows) < 2:
        raise ZooError(f"{path}: the file has a header but no rows.")
    if len(rows[0]) == 1 and len(rows[1]) == 1:  # not a CSV; its lines are not quoted
        raise ZooError(f"{path}: its first line is not a comma-separated header, so it is not a CSV file: check data.train_path.")
    return path, rows[0], rows[1:]


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def find_columns(header, first_row, id_column="auto", time_column="auto"):
    """Names the id and time columns of a CSV: the ones given, or by `auto` rules. Either may be None.

    `auto` time: a column called time, date, timestamp or ds, else the first column whose first
    cell is an ISO 8601 date. `auto` id: a column called series_id, id, unique_id or item_id.
    """
    lower = {name.lower(): name for name in header}
    if time_column == "auto":
        time_column = next((lower[name] for name in TIME_NAMES if name in lower), None)
        if time_column is None and len(first_row) == len(header):
            time_column = next((name for name, cell in zip(header, first_row) if not _is_number(cell) and _as_date(cell) is not None), None)
    if id_column == "auto":
        id_column = next((lower[name] for name in ID_NAMES if name in lower), None)
    return (id_column if id_column in header else None), (time_column if time_column in header else None)


def read_histories(path, *, id_column="auto", time_column="auto", value_columns="auto"):
    """Reads forecasting histories from a CSV or `.tsf` file, recognising its layout.

    - `.tsf`: the Monash forecasting archive's format (`read_tsf`).
    - A CSV with an id and a time column: long, one row per series and step.
    - A CSV with a time column only: one series, one row per step.
    - A CSV without a time column: wide, one row per series: its id, then its values (empty cells at the end).

    Args:
        path: the file.
        id_column, time_column: str, or "auto" (`find_columns`). Column names of the long and single-series layouts.
        value_columns: list of column names (one channel each) or "auto": every column but the
            id and time columns.

    Returns:
        Histories.
    """
    if Path(path).suffix.lower() == ".tsf":
        return read_tsf(path)
    path, header, rows = _csv_rows(path)
    id_column, time_column = find_columns(header, rows[0], id_column, time_column)
    if time_column is None:
        return _wide(path, header, rows)
    keys = [id_column, time_column] if id_column else [time_column]
    columns = [c for c in header if c not in keys] if value_columns == "auto" else list(value_columns)
    absent = [c for c in columns if c not in header]
    if absent or not columns:
        _fail(path, 1, f"no column {absent[0]!r}; the header has {header}." if absent else "no value column besides the id and time.")
    index = {name: header.index(name) for name in header}
    series = {}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            _fail(path, line, "the row has a different number of cells than the header (truncated?).")
        key = row[index[id_column]] if id_column else "series"
        entry = series.setdefault(key, {"line": line, "steps": []})
        values = [number_cell(path, line, c, row[index[c]]) for c in columns]
        entry["steps"].append((parse_time(path, line, time_column, row[index[time_column]]), values))
    raws, last_times, steps, origins = [], [], [], []
    for key, entry in series.items():
        ordered = sorted(entry["steps"], key=lambda step: step[0])
        times = [time for time, _ in ordered]
        if len({type(t) for t in times}) > 1:
            _fail(path, entry["line"], f"series {key!r} mixes numbers and dates in column {time_column!r}.")
        raws.append(np.asarray([values for _, values in ordered], dtype="float64"))
        last_times.append(times[-1])
        steps.append(time_step(times))
        origins.append(f"{path}, series {key!r} (line {entry['line']})")
    step = next((s for s in steps if s is not None), None)
    raw = RawSeries(series=raws, origins=origins, source=str(path), ids=[str(key) for key in series])
    return Histories(raw, last_times=last_times, step=step, season_length=season_for(step))


def _wide(path, header, rows):
    """One row per series: its id, then its values; a shorter series ends in empty cells."""
    series, ids, origins = [], [], []
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        values = [number_cell(path, line, header[k] if k < len(header) else str(k + 1), cell) for k, cell in enumerate(row[1:], start=1)]
        while values and np.isnan(values[-1]):  # empty cells after a shorter series' end
            values.pop()
        if not values:
            _fail(path, line, f"series {row[0]!r} has no values.")
        series.append(np.asarray(values, dtype="float64")[:, None])
        ids.append(row[0])
        origins.append(f"{path}, series {row[0]!r} (line {line})")
    return Histories(RawSeries(series=series, origins=origins, source=str(path), ids=ids))


def read_tsf(path):
    """Reads a `.tsf` file of the Monash forecasting archive.

    A header of `@attribute <name> <string|numeric|date>`, `@frequency`, `@horizon`,
    `@missing`, `@equallength` lines, then `@data` and one series per line: its attribute
    values, then its values separated by commas, all separated by `:`. `?` marks a missing value.

    Returns:
        Histories; dated when a `date` attribute gives each series' start and `@frequency` its step.
    """
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file; check the path (relative paths start at the directory you run from).")
    attributes, frequency, series, ids, origins, starts = [], None, [], [], [], []
    in_data = False
    for line, text in enumerate(read_utf8(path, ".tsf").splitlines(), start=1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        if not in_data:
            if not text.startswith("@"):
                _fail(path, line, f"expected a @tag line or @data before the series, got {text[:40]!r}.")
            tag, _, value = text.partition(" ")
            tag = tag.lower()
            if tag == "@attribute":
                name, _, kind = value.strip().partition(" ")
                if kind.strip() not in ("string", "numeric", "date"):
                    _fail(path, line, f"attribute {name!r} has type {kind.strip()!r}; expected string, numeric or date.")
                attributes.append((name, kind.strip()))
            elif tag == "@frequency":
                frequency = value.strip().lower()
            elif tag == "@data":
                in_data = True
            continue
        cells = text.split(":")
        if len(cells) != len(attributes) + 1:
            _fail(path, line, f"{len(cells) - 1} attribute values before the series, but the header declares {len(attributes)}.")
        values = [number_cell(path, line, "series", cell) for cell in cells[-1].split(",")]
        named = dict(zip((name for name, _ in attributes), cells[:-1]))
        ids.append(named.get("series_name", str(len(ids))))
        series.append(np.asarray(values, dtype="float64")[:, None])
        origins.append(f"{path}, series {ids[-1]!r} (line {line})")
        date = next((cells[k] for k, (_, kind) in enumerate(attributes) if kind == "date"), None)
        if date is not None:
            day, _, clock = date.strip().partition(" ")
            starts.append(parse_time(path, line, "start_timestamp", f"{day}T{clock.replace('-', ':')}" if clock else day))
    if not series:
        _fail(path, 0, "no series after @data (or no @data line).")
    raw = RawSeries(series=series, origins=origins, source=str(path), ids=ids)
    step = TSF_STEPS.get(frequency)
    season = TSF_SEASONS.get(frequency, 1) if frequency else 0
    if not starts or step is None:
        return Histories(raw, season_length=season)
    last_times = [advance(start, step, [len(values) - 1])[0] for start, values in zip(starts, series)]
    return Histories(raw, last_times=last_times, step=step, season_length=season)
