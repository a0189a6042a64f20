"""data=forecast: histories in every layout, windows without leaks, per-window scaling, and one-line errors."""

import numpy as np
import pytest
from conftest import EXAMPLES

from zoo import ZooError
from zoo.data import forecast_dataset
from zoo.data.forecast_format import read_histories, season_for, time_step

pytestmark = pytest.mark.unit


def write_wide(path, histories, ids=None):
    ids = ids or [f"S{k}" for k in range(len(histories))]
    longest = max(len(values) for values in histories)
    lines = [",".join(f'"V{k}"' for k in range(1, longest + 2))]
    for series_id, values in zip(ids, histories):
        cells = [f"{v:g}" for v in values] + [""] * (longest - len(values))
        lines.append(",".join([f'"{series_id}"', *cells]))
    path.write_text("\n".join(lines) + "\n")
    return path


def counting_histories(lengths):
    """History k counts 1000 k + step, so every value says which series and step it is."""
    return [1000.0 * k + np.arange(length) for k, length in enumerate(lengths)]


def test_a_wide_csv_reads_one_series_per_row_and_drops_trailing_empty_cells(tmp_path):
    path = write_wide(tmp_path / "wide.csv", counting_histories([30, 24]))
    read = read_histories(path)
    assert read.raw.ids == ["S0", "S1"] and [len(s) for s in read.raw.series] == [30, 24]
    assert read.last_times is None and read.season_length == 0


def test_a_single_series_csv_with_dates_finds_its_date_column_step_and_season():
    read = read_histories(EXAMPLES / "tiny_monthly.csv")
    assert len(read.raw.series) == 1 and read.raw.series[0].shape == (144, 1)
    assert read.step == (1, "months") and read.season_length == 12
    assert read.future_times(0, 2) == ["2025-01-01", "2025-02-01"]


def test_a_long_csv_groups_by_id_and_sorts_by_time(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,time,load\nb,2024-01-01T01:00,5\na,2024-01-01T00:00,1\na,2024-01-01T01:00,2\nb,2024-01-01T00:00,4\n")
    read = read_histories(path)
    assert read.raw.ids == ["b", "a"]
    np.testing.assert_array_equal(read.raw.series[1][:, 0], [1, 2])
    assert read.season_length == 24 and read.future_times(0, 1) == ["2024-01-01T02:00:00"]


def test_a_tsf_file_reads_names_start_dates_and_frequency(tmp_path):
    path = tmp_path / "set.tsf"
    path.write_text(
        "# a Monash file\n@relation demo\n@attribute series_name string\n@attribute start_timestamp date\n"
        "@frequency daily\n@horizon 7\n@missing true\n@equallength false\n@data\n"
        "T1:2020-01-01 00-00-00:1,2,3,?,5\nT2:2020-03-01 00-00-00:7,8,9\n"
    )
    read = read_histories(path)
    assert read.raw.ids == ["T1", "T2"] and read.season_length == 7
    assert np.isnan(read.raw.series[0][3, 0])
    assert read.future_times(0, 1) == ["2020-01-06"] and read.future_times(1, 1) == ["2020-03-04"]


def test_time_steps_give_the_usual_seasons():
    hours = [np.datetime64("2024-01-01T00:00") + np.timedelta64(k, "h") for k in range(5)]
    days = [np.datetime64("2024-01-01") + np.timedelta64(k, "D") for k in range(5)]
    quarters = [np.datetime64(d) for d in ("2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01")]
    assert [season_for(time_step(t)) for t in (hours, days, quarters, [1.0, 2.0, 3.0])] == [24, 7, 4, 1]


def test_windows_never_reach_into_validation_or_test(tmp_path):
    lengths = [60, 45]
    path = write_wide(tmp_path / "wide.csv", counting_histories(lengths))
    dataset = forecast_dataset(train_path=path, horizon=4, context_length=8, season_length=1, windows_per_series=100, normalize="none")
    train, validation, test = dataset.train, dataset.validation, dataset.test
    raw_future = lambda split: dataset.scaler.inverse_transform(split.future, split)  # noqa: E731
    # Test: each history's last 4 steps; validation: the 4 before; training targets end before those.
    for k, length in enumerate(lengths):
        np.testing.assert_array_equal(raw_future(test)[k, :, 0], 1000 * k + np.arange(length - 4, length))
        np.testing.assert_array_equal(raw_future(validation)[k, :, 0], 1000 * k + np.arange(length - 8, length - 4))
        rows = np.flatnonzero((raw_future(train)[:, 0, 0] // 1000) == k)
        assert raw_future(train)[rows].max() < 1000 * k + length - 8
        assert len(rows) == length - 8 - 4 - 8 + 1  # every full window, since fewer than 100 fit
    # Each target follows its context directly: no gap and no overlap.
    contexts = dataset.scaler.inverse_transform(train.series, train)
    np.testing.assert_array_equal(contexts[:, -1, 0] + 1, raw_future(train)[:, 0, 0])
    assert dataset.spec.timesteps == 8 and dataset.spec.horizon == 4 and not dataset.spec.variable_length


def test_each_series_gives_the_same_number_of_windows_and_auto_values_are_resolved(tmp_path):
    path = write_wide(tmp_path / "wide.csv", counting_histories([400, 60]))
    dataset = forecast_dataset(train_path=path, horizon=4, season_length=6, windows_per_series=20, seed=3)
    per_series = np.bincount((dataset.scaler.inverse_transform(dataset.train.future, dataset.train)[:, 0, 0] // 1000).astype(int))
    assert per_series.tolist() == [20, 20]
    assert dataset.resolved == {"context_length": 24, "season_length": 6, "windows_per_series": 20}


def test_a_test_file_supplies_the_values_after_each_history_by_id(tmp_path):
    histories = counting_histories([40, 50])
    train = write_wide(tmp_path / "train.csv", histories)
    following = [h[-1] + 1 + np.arange(5) for h in histories]
    test = write_wide(tmp_path / "test.csv", following[::-1], ids=["S1", "S0"])
    dataset = forecast_dataset(train_path=train, test_path=test, horizon=5, context_length=10, season_length=1, normalize="none")
    np.testing.assert_array_equal(dataset.test.future[:, :, 0], np.stack(following))
    np.testing.assert_array_equal(dataset.test.series[:, -1, 0], [39, 1049])  # the context ends at the history's end
    np.testing.assert_array_equal(dataset.validation.future[:, 0, 0], [35, 1045])


def test_window_scaling_round_trips_and_centres_each_context(tmp_path):
    rng = np.random.default_rng(0)
    histories = [rng.normal(10.0**k, 10.0 ** (k - 1), size=80) for k in range(1, 4)]
    dataset = forecast_dataset(train_path=write_wide(tmp_path / "w.csv", histories), horizon=6, context_length=12, season_length=1)
    split = dataset.test
    np.testing.assert_allclose(split.series.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(split.series.std(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(dataset.scaler.inverse_transform(split.future, split)[:, :, 0], np.stack([h[-6:] for h in histories]), rtol=1e-5)


def test_short_histories_are_padded_and_masked(tmp_path):
    path = write_wide(tmp_path / "wide.csv", counting_histories([200, 20]))
    dataset = forecast_dataset(train_path=path, horizon=3, context_length=40, season_length=2, normalize="none")
    assert dataset.spec.variable_length
    assert dataset.test.lengths.tolist() == [40, 17]


@pytest.mark.parametrize(
    ("files", "options", "message"),
    [
        ({"train": "\"V1\",\"V2\"\n\"A\",1\n\"B\",1,2,3,4,5,6,7,8,9,10,11,12\n"}, {"horizon": 3},
         r"series 'A' \(line 2\): the history has 1 steps, fewer than the 11 that a context of 2 and 3 horizons of 3 need"),
        ({"train": "\"V1\",\"V2\"\n\"A\",1,2,3,4,5,6,7,8,9,10,11,12\n", "test": "\"V1\",\"V2\"\n\"B\",1,2\n"}, {"horizon": 2},
         r"test.csv: no series 'A', which .*train.csv, series 'A' \(line 2\) holds"),
        ({"train": "\"V1\",\"V2\"\n\"A\",1,2,x,4\n"}, {"horizon": 1}, r"train.csv, line 2: column '4' holds a non-numeric value 'x'"),
        ({"train": "\"V1\",\"V2\"\n\"A\",1,2,3,4,5,6,7,8,9,10\n"}, {"horizon": 0}, r"invalid value for data.horizon, expected a positive integer"),
    ],
    ids=["history too short", "id missing from the test file", "non-numeric value", "no horizon"],
)
def test_bad_histories_are_one_line_errors(tmp_path, files, options, message):
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    with pytest.raises(ZooError, match=message):
        forecast_dataset(train_path=paths["train"], test_path=paths.get("test"), season_length=1, **options)
