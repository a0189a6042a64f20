"""The .ts reader: every header tag, uni- and multivariate, unequal lengths, labels, targets, and bad files."""

import numpy as np
import pytest
from conftest import EXAMPLES

from zoo.data.ts_format import read_ts
from zoo.errors import ZooError

pytestmark = pytest.mark.unit

HEADER = """# comment lines are skipped
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
"""


def write(tmp_path, text, name="toy.ts"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_multivariate_unequal_length_with_missing_values_and_string_labels(tmp_path):
    path = write(tmp_path, HEADER + "1,2,3:4,5,6:up\n\n7,?,9,10:11,12,13,14:down\n")
    raw = read_ts(path)
    assert [s.shape for s in raw.series] == [(3, 2), (4, 2)]
    np.testing.assert_array_equal(raw.series[0], [[1, 4], [2, 5], [3, 6]])
    assert np.isnan(raw.series[1][1, 0]) and raw.series[1][3, 1] == 14
    assert raw.labels == ["up", "down"] and raw.class_names == ["up", "down"]
    assert raw.origins == [f"{path}, line 10", f"{path}, line 12"]


def test_univariate_equal_length_regression_targets(tmp_path):
    text = "@problemName R\n@univariate true\n@equalLength true\n@seriesLength 3\n@targetLabel true\n@data\n1,2,3:0.5\n4,5,6:-1.25\n"
    raw = read_ts(write(tmp_path, text))
    assert [s.shape for s in raw.series] == [(3, 1), (3, 1)]
    np.testing.assert_array_equal(raw.targets, [0.5, -1.25])
    assert raw.labels is None


def test_unlabelled_file_for_forecasting(tmp_path):
    raw = read_ts(write(tmp_path, "@univariate true\n@classLabel false\n@data\n1,2,3\n4,5\n"))
    assert raw.labels is None and raw.targets is None and len(raw.series) == 2


def test_the_shipped_example_reads():
    raw = read_ts(EXAMPLES / "tiny_TRAIN.ts")
    assert len(raw.series) == 155 and {s.shape[1] for s in raw.series} == {2}
    assert set(raw.labels) == {"sine", "damped"} and len({len(s) for s in raw.series}) > 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("@problemName X\n@univariate true\n@classLabel true a b\n", "no @data line; the file is truncated"),
        ("@univariate true\n@classLabel true a b\n@data\n", "no series after @data"),
        ("1,2,3:a\n", "line 1: expected a header tag"),
        ("@univariate true\n@data\n1,2:a\n", "line 2: the header declares neither @classLabel nor @targetLabel"),
        ("@colour blue\n@data\n", "line 1: unknown header tag '@colour'"),
        ("@univariate maybe\n", "line 1: @univariate must be true or false, got 'maybe'"),
        ("@timeStamps true\n@classLabel true a\n@data\n(0,1),(1,2):a\n", "@timeStamps true files are not supported"),
        (HEADER + "1,2,3:a\n", "line 10: the series has 1 dimension(s) but the file declares 2 (is the line truncated?)"),
        (HEADER + "1,2,3:4,5,6:7,8,9:up\n", "line 10: the series has 3 dimension(s) but the file declares 2."),
        (HEADER + "1,x,3:4,5,6:up\n", "line 10: dimension 1 holds a non-numeric value 'x'"),
        (HEADER + "1,2,3:4,5:up\n", "line 10: the dimensions of one series have different lengths [2, 3]"),
        (HEADER + "1,2,3:4,5,6:sideways\n", "line 10: class label 'sideways' is not declared in @classLabel"),
        ("@univariate true\n@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2:a\n", "line 6: the series has 2 values but @seriesLength is 3"),
        ("@univariate true\n@missing false\n@classLabel true a\n@data\n1,?:a\n", "line 5: '?' found but the header says @missing false"),
        ("@univariate true\n@targetLabel true\n@data\n1,2:big\n", "line 4: regression target 'big' is not a number"),
    ],
)
def test_bad_files_name_the_file_line_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ZooError) as error:
        read_ts(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ZooError, match="nope.ts: no such file"):
        read_ts(tmp_path / "nope.ts")


def test_the_docs_example_parses(tmp_path):
    readme = (EXAMPLES.parents[1] / "docs" / "data.md").read_text()
    snippet = readme.split("A `.ts` file looks like this")[1].split("```")[1]
    raw = read_ts(write(tmp_path, snippet.strip() + "\n"))
    assert [s.shape for s in raw.series] == [(4, 2), (3, 2)] and raw.labels == ["sine", "damped"]
