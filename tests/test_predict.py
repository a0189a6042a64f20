"""Using a trained run: `zoo.load_run(...).predict` and `python -m zoo.predict` on new files, and every refusal.

The command runs as a subprocess where the command itself is under test (its CSV, its messages);
the other cases run its task in this process through `zoo.cli.run_task`, as the command does
after Hydra composed its config (the README runs the command as typed as well).
"""

import csv

import numpy as np
import pytest
from conftest import EXAMPLES, compose_config, run_cli, run_task_in_process

from zoo import ZooError, load_run
from zoo.data.ts_format import read_ts
from zoo.inference import predict
from zoo.tasks.reports import get_report
from zoo.training.builders import build_dataset
from zoo.training.loop import train

pytestmark = pytest.mark.unit

TS_DATA = ["data=ts", f"data.train_path={EXAMPLES / 'tiny_TRAIN.ts'}", f"data.test_path={EXAMPLES / 'tiny_TEST.ts'}"]


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def classifier_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("predict") / "classifier"
    train(compose_config(overrides=[*TS_DATA, "trainer.epochs=2", "trainer.batch_size=16"], output_dir=run_dir))
    return run_dir


@pytest.mark.integration
def test_predicting_the_raw_test_file_equals_scoring_the_run_test_split(classifier_run):
    run = load_run(classifier_run)
    assert run.classes == ["damped", "sine"] and run.config.model.name == "last_state"
    raw = read_ts(EXAMPLES / "tiny_TEST.ts")
    from zoo.data.raw import apply_missing_policy

    raw = apply_missing_policy(raw, "interpolate")
    outputs = run.predict(raw.series)  # ragged, unscaled, as read from the file
    dataset = build_dataset(run.config.data)
    expected = predict(run.model, dataset.test)
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
    assert list(outputs["class"]) == [run.classes[i] for i in expected.argmax(axis=1)]
    # A padded array with lengths gives the same as the ragged list.
    longest = max(len(values) for values in raw.series)
    padded = np.zeros((len(raw.series), longest, 2), "float32")
    for index, values in enumerate(raw.series):
        padded[index, : len(values)] = values
    lengths = [len(values) for values in raw.series]
    np.testing.assert_allclose(run.predict(padded, lengths=lengths)["probabilities"], outputs["probabilities"], atol=1e-6)


@pytest.mark.slow
def test_the_predict_command_writes_one_row_per_series_with_every_class_probability(classifier_run, tmp_path, capsys):
    output = tmp_path / "predictions.csv"
    completed = run_cli("-m", "zoo.predict", f"run_dir={classifier_run}", f"input={EXAMPLES / 'tiny_TEST.ts'}", f"output={output}")
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 34 and list(rows[0]) == ["id", "class", "probability_damped", "probability_sine"]
    for row in rows:
        probabilities = [float(row["probability_damped"]), float(row["probability_sine"])]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
        assert row["class"] == ["damped", "sine"][int(np.argmax(probabilities))]
    assert "The file's labels agree with" in completed.stdout + completed.stderr
    assert f"Predicting 34 series of {EXAMPLES / 'tiny_TEST.ts'} in 1 batch of 256." in completed.stdout + completed.stderr
    assert "\x1b" not in completed.stdout and "\r" not in completed.stdout  # no progress bar when piped
    # Without output=, predictions go into the run directory.
    assert run_task_in_process("predict", [f"run_dir={classifier_run}", f"input={EXAMPLES / 'tiny_TEST.ts'}"], capsys)[0] == 0
    assert (classifier_run / "predictions" / "tiny_TEST.ts.csv").read_text() == output.read_text()


@pytest.mark.integration
def test_input_files_need_no_labels(classifier_run, tmp_path, capsys):
    text = (EXAMPLES / "tiny_TEST.ts").read_text().replace("@classLabel true sine damped", "@classLabel false")
    lines = [line.rsplit(":", 1)[0] if line and line[0] in "-0123456789" else line for line in text.splitlines()]
    unlabelled = tmp_path / "unlabelled.ts"
    unlabelled.write_text("\n".join(lines) + "\n")
    output = tmp_path / "out.csv"
    assert run_task_in_process("predict", [f"run_dir={classifier_run}", f"input={unlabelled}", f"output={output}"], capsys)[0] == 0
    assert len(list(csv.DictReader(output.open()))) == 34


@pytest.mark.integration
@pytest.mark.parametrize(
    "input_name, message",
    [
        ("tiny_long.csv", "tiny_long.csv: no column 'value'; the header has"),
        ("tiny.npz", "The run trained without static covariates: pass static=None."),
        ("missing.ts", "does not exist: pass input=<a .ts, .csv or .npz file>."),
        ("notes.txt", "is not .ts, .csv or .npz: convert it to one of those formats."),
        ("unknown_label.ts", "label 'square' is not one of the run's classes ['damped', 'sine']"),
    ],
)
def test_inputs_that_do_not_fit_the_run_are_refused_in_one_line(classifier_run, tmp_path, capsys, input_name, message):
    path = EXAMPLES / input_name if (EXAMPLES / input_name).exists() else tmp_path / input_name
    if input_name == "notes.txt":
        path.write_text("hello\n")
    if input_name == "unknown_label.ts":
        path.write_text((EXAMPLES / "tiny_TEST.ts").read_text().replace("sine damped", "sine damped square").replace(":sine\n", ":square\n", 1))
    output = tmp_path / "out.csv"
    code, stderr = run_task_in_process("predict", [f"run_dir={classifier_run}", f"input={path}", f"output={output}"], capsys)
    assert code == 1
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and message in last and "Traceback" not in stderr
    assert not output.exists()


def test_the_python_api_refuses_bad_arrays(classifier_run):
    run = load_run(classifier_run)
    with pytest.raises(ZooError, match=r"trained on 2 features per step: pass arrays of shape \(length, 2\)"):
        run.predict(np.zeros((3, 10, 5), "float32"))
    bad = np.zeros((1, 10, 2), "float32")
    bad[0, 3, 1] = np.nan
    with pytest.raises(ZooError, match="Series 0 holds NaN or infinite values"):
        run.predict(bad)
    with pytest.raises(ZooError, match="lengths must give 1 to 10 valid steps"):
        run.predict(np.zeros((2, 10, 2), "float32"), lengths=[10, 11])


@pytest.mark.integration
def test_a_seq2seq_run_forecasts_new_series_autoregressively_in_original_units(tmp_path):
    overrides = [*TS_DATA, "data.horizon=4", "model=seq2seq", "model.units=8", "trainer.epochs=1"]
    train(compose_config(overrides=overrides, output_dir=tmp_path))
    run = load_run(tmp_path)
    dataset = build_dataset(run.config.data)
    split = dataset.test
    history = dataset.scaler.inverse_transform(split.series)
    series = [history[i, : split.lengths[i]] for i in range(len(split))]
    outputs = run.predict(series)
    _, expected = get_report("forecast").score(run.model, dataset, batch_size=64)
    assert outputs["forecast"].shape == (len(split), 4, 2)
    np.testing.assert_allclose(outputs["forecast"], expected, atol=1e-4)


@pytest.mark.integration
@pytest.mark.parametrize("data", ["csv", "npz"])
def test_runs_on_csv_and_npz_predict_their_example_files(tmp_path, capsys, data):
    from conftest import EXAMPLE_DATA

    run_dir = tmp_path / data
    train(compose_config(overrides=[f"data={data}", *EXAMPLE_DATA[data], "trainer.epochs=1"], output_dir=run_dir))
    example = EXAMPLES / ("tiny_long.csv" if data == "csv" else "tiny.npz")
    output = tmp_path / "out.csv"
    assert run_task_in_process("predict", [f"run_dir={run_dir}", f"input={example}", f"output={output}"], capsys)[0] == 0
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 155 and list(rows[0])[:2] == ["id", "class"]
    # The CSV's own series ids; the NPZ's positions.
    assert rows[0]["id"] == ("s000" if data == "csv" else "0")
    assert {row["class"] for row in rows} <= {"damped", "sine"}
