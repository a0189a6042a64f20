"""The long-format CSV and NPZ readers."""

import numpy as np
import pytest
from conftest import EXAMPLES

from zoo.data.csv_format import read_long_csv
from zoo.data.npz_format import read_npz
from zoo.errors import ZooError

pytestmark = pytest.mark.unit

COLUMNS = dict(id_column="id", time_column="t", feature_columns=["a", "b"], label_column="y", static_columns=["gain"])


def write(tmp_path, text, name="long.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_groups_by_id_sorts_by_time_and_keeps_constants(tmp_path):
    text = "id,t,a,b,gain,y\ns1,1,2,20,0.5,up\ns2,0,5,50,2,down\ns1,0,1,10,0.5,up\ns1,2,,30,0.5,up\n"
    raw = read_long_csv(write(tmp_path, text), **COLUMNS)
    assert len(raw.series) == 2
    np.testing.assert_array_equal(raw.series[0][:2], [[1, 10], [2, 20]])
    assert np.isnan(raw.series[0][2, 0])  # empty cell = missing
    assert raw.labels == ["up", "down"]
    np.testing.assert_array_equal(raw.static, [[0.5], [2.0]])


def test_a_time_column_of_dates_orders_the_steps_by_date_and_time(tmp_path):
    text = ("id,t,a,b,gain,y\n"
            "s1,2020-02-01,2,20,0.5,up\ns1,2020-01-31T12:00,1,10,0.5,up\ns1,2020-02-01T00:30:00,3,30,0.5,up\n")
    raw = read_long_csv(write(tmp_path, text), **COLUMNS)
    np.testing.assert_array_equal(raw.series[0], [[1, 10], [2, 20], [3, 30]])


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("id,t,a,b,gain,y\ns1,31/01/2020,1,2,2,up\n", "line 2: column 't' holds '31/01/2020', neither a number nor an ISO 8601 date"),
        ("id,t,a,b,gain,y\n", "the file has a header but no rows"),
        ("id,t,a,gain,y\ns1,0,1,2,up\n", "no column 'b'"),
        ("id,t,a,b,gain,y\ns1,0,1,x,2,up\n", "line 2: column 'b' holds a non-numeric value 'x'"),
        ("id,t,a,b,gain,y\ns1,0,1,2,2,up\ns1,1,1,2,2,down\n", "line 3: column 'y' changes within series 's1'"),
        ("id,t,a,b,gain,y\ns1,0,1,2,2,up\ns1,1,1\n", "line 3: the row has a different number of cells"),
    ],
)
def test_bad_csv_files_name_the_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ZooError) as error:
        read_long_csv(path, **COLUMNS)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_npz_with_lengths_and_static(tmp_path):
    X = np.arange(2 * 4 * 1, dtype="float32").reshape(2, 4, 1)
    np.savez(tmp_path / "d.npz", X=X, y=np.array(["a", "b"]), lengths=np.array([4, 2]), static=np.ones((2, 3)))
    raw = read_npz(tmp_path / "d.npz")
    assert [s.shape for s in raw.series] == [(4, 1), (2, 1)]
    assert raw.labels == ["a", "b"] and raw.static.shape == (2, 3)
    regression = read_npz(tmp_path / "d.npz", y_type="none")
    assert regression.labels is None


def test_the_shipped_examples_read():
    raw = read_long_csv(EXAMPLES / "tiny_long.csv", id_column="series_id", time_column="time",
                        feature_columns=["value_a", "value_b"], label_column="label", static_columns=["sensor_gain"])
    assert len(raw.series) == 155 and raw.static.shape == (155, 1)
    assert len(read_npz(EXAMPLES / "tiny.npz").series) == 155


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((2, 3, 1))}, "no array 'X'; the file holds ['x']"),
        ({"X": np.zeros((2, 3))}, "X must have shape (N, T, F), got (2, 3)"),
        ({"X": np.zeros((2, 3, 1)), "y": np.zeros(3)}, "y must have shape (2,) to match X, got (3,)"),
        ({"X": np.zeros((2, 3, 1)), "y": np.zeros(2), "lengths": np.array([3, 4])}, "lengths must be 2 integers in [1, 3]"),
        ({"X": np.zeros((2, 3, 1))}, "no array 'y'"),
    ],
)
def test_bad_npz_files_name_the_problem(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ZooError) as error:
        read_npz(tmp_path / "bad.npz")
    assert message in str(error.value)


def test_truncated_npz_is_named(tmp_path):
    np.savez(tmp_path / "full.npz", X=np.zeros((20, 30, 2)), y=np.zeros(20))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ZooError, match="not a readable .npz file"):
        read_npz(tmp_path / "cut.npz")
