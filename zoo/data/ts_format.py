"""A small reader for the `.ts` format of the UCR/UEA archives (the sktime/aeon format).

A file is a header of `@tags`, then `@data`, then one series per line: dimensions separated by
`:`, values by `,`, the class label or regression target last. `?` marks a missing value.
Timestamped files (`@timeStamps true`) are not supported and say so.
"""

from pathlib import Path

import numpy as np

from zoo.data.raw import RawSeries
from zoo.data.text_files import read_utf8
from zoo.errors import ZooError

BOOLEAN_TAGS = {"@timestamps", "@missing", "@univariate", "@equallength", "@targetlabel"}
INTEGER_TAGS = {"@dimension", "@dimensions", "@serieslength"}
OTHER_TAGS = {"@problemname", "@classlabel", "@data"}


def _fail(path, number, problem):
    where = f"{path}, line {number}" if number else str(path)
    raise ZooError(f"{where}: {problem}")


def _parse_header_value(path, number, tag, value):
    if tag in BOOLEAN_TAGS:
        if value.lower() not in ("true", "false"):
            _fail(path, number, f"{tag} must be true or false, got {value!r}.")
        return value.lower() == "true"
    if tag in INTEGER_TAGS:
        if not value.isdigit() or int(value) < 1:
            _fail(path, number, f"{tag} must be a positive integer, got {value!r}.")
        return int(value)
    if tag == "@classlabel":
        flag, *names = value.split()
        if flag.lower() not in ("true", "false"):
            _fail(path, number, f"@classLabel must be 'true <labels...>' or 'false', got {value!r}.")
        if flag.lower() == "true" and not names:
            _fail(path, number, "@classLabel true lists no class labels.")
        return names if flag.lower() == "true" else None
    return value


def _parse_values(path, number, dimension, text):
    values = []
    for token in text.split(","):
        token = token.strip()
        if token == "?":
            values.append(np.nan)
            continue
        try:
            values.append(float(token))
        except ValueError:
            _fail(path, number, f"dimension {dimension + 1} holds a non-numeric value {token!r}.")
    return values


def read_ts(path):
    """Reads a `.ts` file.

    Args:
        path: path of the file.

    Returns:
        A RawSeries: one `(length, dimensions)` array per series (NaN where `?`), and labels
        (str) or regression targets (float) when the header declares them.
    """
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: no such file; check the path (relative paths start at the directory you run from).")
    lines = read_utf8(path, ".ts").splitlines()
    if not any(line.strip() for line in lines):
        raise ZooError(f"{path}: the file is empty.")

    header, data_started = {}, False
    series, labels, targets, origins = [], [], [], []
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if not data_started:
            if not line.startswith("@"):
                _fail(path, number, f"expected a header tag such as @problemName or @data, got {line[:40]!r}.")
            tag, _, value = line.partition(" ")
            tag = tag.lower()
            if tag not in BOOLEAN_TAGS | INTEGER_TAGS | OTHER_TAGS:
                _fail(path, number, f"unknown header tag {tag!r}.")
            if tag == "@data":
                data_started = True
                if header.get("@timestamps"):
                    _fail(path, number, "@timeStamps true files are not supported; export the series without timestamps.")
                if header.get("@classlabel") is None and "@classlabel" not in header and "@targetlabel" not in header:
                    _fail(path, number, "the header declares neither @classLabel nor @targetLabel before @data.")
                continue
            header[tag] = _parse_header_value(path, number, tag, value.strip())
            continue

        class_names = header.get("@classlabel")
        has_target = header.get("@targetlabel", False)
        labelled = class_names is not None or has_target
        parts = line.split(":")
        label = parts.pop().strip() if labelled else None
        dimensions = header.get("@dimensions", header.get("@dimension"))
        if header.get("@univariate") and dimensions is None:
            dimensions = 1
        if dimensions is None and series:
            dimensions = series[0].shape[1]
        if dimensions is not None and len(parts) != dimensions:
            _fail(
                path,
                number,
                f"the series has {len(parts)} dimension(s) but the file declares {dimensions}"
                + (" (is the line truncated?)" if len(parts) < dimensions else "") + ".",
            )
        channels = [_parse_values(path, number, d, part) for d, part in enumerate(parts)]
        lengths = {len(channel) for channel in channels}
        if len(lengths) != 1:
            _fail(path, number, f"the dimensions of one series have different lengths {sorted(lengths)}.")
        length = lengths.pop()
        expected_length = header.get("@serieslength")
        if header.get("@equallength", False) and expected_length and length != expected_length:
            _fail(path, number, f"the series has {length} values but @seriesLength is {expected_length}.")
        if header.get("@missing") is False and any(np.isnan(v) for channel in channels for v in channel):
            _fail(path, number, "'?' found but the header says @missing false.")
        if class_names is not None:
            if label not in class_names:
                _fail(path, number, f"class label {label!r} is not declared in @classLabel {class_names}.")
            labels.append(label)
        elif has_target:
            try:
                targets.append(float(label))
            except ValueError:
                _fail(path, number, f"regression target {label!r} is not a number.")
        series.append(np.asarray(channels, dtype="float64").T)
        origins.append(f"{path}, line {number}")

    if not data_started:
        raise ZooError(f"{path}: no @data line; the file is truncated or not in .ts format.")
    if not series:
        raise ZooError(f"{path}: no series after @data; the file is truncated.")
    return RawSeries(
        series=series,
        labels=labels or None,
        targets=np.asarray(targets, dtype="float64") if targets else None,
        static=None,
        origins=origins,
        source=str(path),
        class_names=header.get("@classlabel"),
    )
