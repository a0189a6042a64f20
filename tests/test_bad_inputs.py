"""Bad input, one table: every case ends with its exit code, one line naming the problem and the fix, no traceback, and nothing already written lost.

Cases run through `zoo.cli.run_task` in this process (what train.py, evaluate.py and zoo.predict
call after Hydra composed the config), except those where Hydra itself or the run-directory lock
is under test, which run the real command. Each case's files are made in its own directory; the
test snapshots every file there before the command and checks each is still there, byte for
byte, afterwards.
"""

import contextlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

import keras
import numpy as np
import pytest
import yaml
from cli_processes import run_to_end, start_cli
from conftest import EXAMPLES, run_task_in_process

pytestmark = pytest.mark.unit

TRAIN_TS, TEST_TS, LONG_CSV, NPZ = (EXAMPLES / name for name in ("tiny_TRAIN.ts", "tiny_TEST.ts", "tiny_long.csv", "tiny.npz"))
CSV_COLUMNS = ["data.feature_columns=[value_a,value_b]", "data.label_column=label"]
GARBAGE = bytes(range(256)) * 8


@dataclass
class Case:
    """One bad input.

    Args:
        id: the test id.
        command: "train", "evaluate" or "predict" (in process), or "cli:<script>" (a subprocess).
        args: overrides; `{dir}` is the case's directory, `{run}` a copy of a finished run in it.
        line: the whole last line of stderr, or its pieces in order around "..."; None for input that
            must be accepted (exit code 0).
        code: the exit code.
        files: name -> bytes or a function of the case directory that makes the file.
        change_run: a function of the run copy that damages it.
        limit_file_size: bytes a subprocess may write per file (a simulated full disk).
        read_only: a directory (in the case's directory) to make read-only: a read-only tmpfs where
            the machine allows mounting, else a file-size limit of 16 bytes (any real write fails;
            Python's own 4-byte temporary-directory probe still passes).
        accepted: for accepted input, a function of the run directory that checks what it holds.
        first_line: check the first line instead of the last (Hydra's own errors end with its
            HYDRA_FULL_ERROR hint, after a first line that names the problem and lists the options).
    """

    id: str
    command: str
    args: list
    line: str
    code: int = 1
    files: dict = field(default_factory=dict)
    change_run: object = None
    limit_file_size: int = None
    read_only: str = None
    accepted: object = None
    first_line: bool = False


def ts_text(rows, labels="a b"):
    header = "@problemName Bad\n@timeStamps false\n@missing true\n@univariate true\n@equalLength false\n"
    header += f"@classLabel true {labels}\n" if labels else "@classLabel false\n"
    return (header + "@data\n" + "\n".join(rows) + "\n").encode()


def ts_rows(count, length, label_of=lambda index: "ab"[index % 2], value=lambda i, t: f"{np.sin(i + t / 3):.3f}"):
    label = (lambda i: f":{label_of(i)}") if label_of else (lambda i: "")
    return [",".join(value(i, t) for t in range(length)) + label(i) for i in range(count)]


def ts_args(train="train.ts", test="test.ts"):
    return ["data=ts", f"data.train_path={{dir}}/{train}", f"data.test_path={{dir}}/{test}" if test else "data.test_path=null"]


GOOD_TS = {"train.ts": ts_text(ts_rows(24, 20)), "test.ts": ts_text(ts_rows(10, 20))}


def csv_with(transform):
    return transform(LONG_CSV.read_text()).encode()


def replace_first_value(text, new):
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[2] = new
    lines[1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def lambda_checkpoint(directory):
    """Writes the untrusted file under test: a `.keras` holding a Python lambda, which safe mode must refuse."""
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(directory / "lambda.keras")


def write_yaml_target(run):
    text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(text.replace("_target_: zoo.data.synthetic_dataset", "_target_: builtins.open"))


def edit_config(change):
    """A change_run that leaves the run unfinished and edits its config.yaml with `change(config dict, run path)`."""

    def edit(run):
        (run / "metrics.json").unlink()
        config = yaml.safe_load((run / "config.yaml").read_text())
        change(config, run)
        (run / "config.yaml").write_text(yaml.safe_dump(config))

    return edit


def billion_laughs(run):
    """A 2 KB config.yaml whose nested aliases expand to 10**9 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    (run / "config.yaml").write_text("\n".join(lines) + "\nmodel: *a8\ndata: *a8\n")


def precious_directory(directory):
    (directory / "precious").mkdir()
    (directory / "precious" / "notes.txt").write_text("mine")


CASES = [
    # --- configs and overrides ---
    Case("unknown model", "cli:train.py", ["model=transformer"], "In 'train': Could not find 'model/transformer'", first_line=True),
    Case("unknown key", "cli:train.py", ["trainer.epoch=3"], "Could not override 'trainer.epoch'.", first_line=True),
    Case("unknown key added with +", "train", ["+trainer.epoch=3"],
         "Error: Invalid trainer config (trainer=default): it has no option 'epoch'; "
         "remove trainer.epoch from the command line or the debug/experiment config that sets it."),
    Case("unknown callback option added with +", "train", ["+callbacks.early_stopping.patience_epochs=3"],
         "Error: Invalid callbacks config (callbacks=default): it has no option 'patience_epochs'; "
         "remove callbacks.early_stopping.patience_epochs from the command line or the debug/experiment config that sets it."),
    Case("negative units", "train", ["model.units=-3"],
         "Error: Invalid model config (model=last_state): Received an invalid value for units, expected a positive integer, got -3."),
    Case("dropout not a number", "train", ["model.dropout=abc"],
         "Error: Invalid model config (model=last_state): Received an invalid value for dropout, expected a number in [0, 1), got 'abc'."),
    Case("fcn dropout of one", "train", ["model=fcn", "model.dropout=1.0"],
         "Error: Invalid model config (model=fcn): Received an invalid value for dropout, expected a number in [0, 1), got 1.0."),
    Case("inception_time negative dropout", "train", ["model=inception_time", "model.dropout=-0.1"],
         "Error: Invalid model config (model=inception_time): Received an invalid value for dropout, expected a number in [0, 1), got -0.1."),
    Case("synthetic noise not a number", "train", ["data.noise=abc"],
         "Error: Invalid data config (data=synthetic): Received an invalid value for noise, expected a number >= 0, got 'abc'."),
    Case("synthetic classes not a number", "train", ["data.n_classes=abc"],
         "Error: Invalid data config (data=synthetic): Received an invalid value for n_classes, expected an integer in [2, 6] ..."),
    Case("synthetic test share not a number", "train", ["data.test_fraction=abc"],
         "Error: Invalid data config (data=synthetic): Received an invalid value for test_fraction, expected a number in [0, 1), got 'abc'."),
    Case("seed beyond 32 bits", "train", ["seed=1099511627776"],
         "Error: Received an invalid value for seed, expected an integer below 2**32 = 4294967296, got 1099511627776."),
    Case("optimizer argument of the wrong type", "train", ["debug=smoke", "+trainer.optimizer.weight_decay=abc"],
         "Error: Invalid trainer.optimizer (keras.optimizers.Adam): one update step failed (weight_decay='abc' is not a number); "
         "give each argument a value of its type, e.g. +trainer.optimizer.weight_decay=0.01."),
    Case("unwritable TensorBoard directory", "train", ["debug=smoke", "logger.tensorboard.log_dir={dir}/a_file/tensorboard"],
         "Error: Invalid logger config (logger=tensorboard): Cannot write TensorBoard logs to {dir}/a_file/tensorboard (...): "
         "choose a writable logger.tensorboard.log_dir.", files={"a_file": b"not a directory"}),
    Case("synthetic data larger than memory", "train", ["data.n_samples=1000000000"],
         "Error: Invalid data config (data=synthetic): n_samples=1000000000 series of 72 steps and 3 features need about ... GiB, "
         "more than this machine's ... GiB of memory: lower n_samples, length or n_features."),
    Case("negative patience", "train", ["debug=smoke", "callbacks.early_stopping.patience=-1"],
         "Error: Received an invalid value for callbacks.early_stopping.patience, expected an integer >= 0, got -1."),
    Case("unknown logger option added with +", "train", ["+logger.tensorboard.flush_every=3"],
         "Error: Invalid logger config (logger=tensorboard): it has no option 'flush_every'; "
         "remove logger.tensorboard.flush_every from the command line or the debug/experiment config that sets it."),
    Case("callback option not a number", "train", ["callbacks.reduce_lr_on_plateau.factor=abc"],
         "Error: Received an invalid value for callbacks.reduce_lr_on_plateau.factor, expected a number >= 0, got 'abc'."),
    Case("callback option Keras refuses", "train", ["callbacks.reduce_lr_on_plateau.factor=2.0"],
         "Error: Invalid callbacks config (callbacks=reduce_lr_on_plateau): keras.callbacks.ReduceLROnPlateau refused its "
         "options (ValueError: ReduceLROnPlateau does not support a factor >= 1.0. Received factor=2.0): give each the value its class documents."),
    Case("unknown device", "train", ["trainer.device=tpu"],
         "Error: Received an invalid value for trainer.device, expected one of ['auto', 'cpu', 'gpu'], got 'tpu'."),
    Case("seed not a number", "train", ["seed=abc"], "Error: Received an invalid value for seed, expected an integer >= 0, got 'abc'."),
    Case("an ensemble of no members", "train", ["trainer.ensemble=0"],
         "Error: Received an invalid value for trainer.ensemble, expected a positive integer, got 0."),
    Case("an ensemble of an autoregressive forecaster", "train", ["model=seq2seq", "trainer.ensemble=3"],
         "Error: trainer.ensemble=3 with model=seq2seq, whose forecast feeds its own outputs back step by step, so members "
         "cannot be averaged in one graph: use trainer.ensemble=1 or another model."),
    Case("zero epochs", "train", ["trainer.epochs=0"], "Error: Received an invalid value for trainer.epochs, expected a positive integer, got 0."),
    Case("negative batch size", "train", ["trainer.batch_size=-1"], "Error: Received an invalid value for trainer.batch_size..."),
    Case("unknown precision", "train", ["trainer.precision=float8"], "Error: Received an invalid value for trainer.precision..."),
    Case("optimizer outside keras", "train", ["trainer.optimizer._target_=builtins.open"],
         "Error: Received an invalid value for trainer.optimizer._target_, expected a keras.optimizers class such as keras.optimizers.Adam, got 'builtins.open'."),
    Case("validation share above one", "train", ["data.val_fraction=1.5"], "Error: Invalid data config (data=synthetic): Received an invalid value for val_fraction, expected a number in [0, 1), got 1.5."),
    Case("unknown normalisation", "train", ["data.normalize=zscore"], "Error: ...data.normalize..."),
    Case("unknown cell", "train", ["model.cell=rnn"], "Error: Invalid model config (model=last_state): ...cell..."),
    Case("negative backup interval", "train", ["trainer.backup_every_steps=-1"],
         "Error: Received an invalid value for trainer.backup_every_steps, expected an integer >= 0, got -1."),
    Case("negative update_freq", "train", ["logger.tensorboard.update_freq=-2"], "Error: Invalid logger config (logger=tensorboard): Received an invalid value for logger.tensorboard.update_freq, expected an integer >= 0, got -2."),
    Case("synthetic length 1", "train", ["data.length=1"], "Error: Invalid data config (data=synthetic): Every series is 1 step long; a sequence model needs at least 2 steps...",),
    Case("one synthetic class", "train", ["data.n_classes=1"], "Error: ...one class..."),
    Case("monitor not reported", "train", ["debug=smoke", "monitor=val_nonsense"],
         "Error: monitor=val_nonsense is not among the metrics Keras reports..."),
    Case("diverging loss", "train", ["debug=smoke", "model=seq2seq", "trainer.optimizer._target_=keras.optimizers.SGD", "trainer.learning_rate=1e6", "trainer.clipnorm=null"],
         "Error: The training loss became inf at epoch 1, step 5; the run stopped and keeps its last good checkpoint: lower trainer.learning_rate, set trainer.clipnorm, or keep trainer.precision=float32."),
    # --- data files ---
    Case("missing train file", "train", ts_args(), "Error: Invalid data config (data=ts): {dir}/train.ts: no such file; check the path (relative paths start at the directory you run from).", files={"test.ts": GOOD_TS["test.ts"]}),
    Case("missing test file", "train", ts_args(), "Error: Invalid data config (data=ts): {dir}/test.ts: no such file; check the path...", files={"train.ts": GOOD_TS["train.ts"]}),
    Case("directory as train file", "train", ts_args(train="folder"), "Error: ...{dir}/folder...", files={"folder/x": b"", **GOOD_TS}),
    Case("binary .ts", "train", ts_args(), "Error: Invalid data config (data=ts): {dir}/train.ts is not UTF-8 text (byte 0x80 at offset 128): pass a .ts file saved as UTF-8 text.", files={"train.ts": GARBAGE, "test.ts": GOOD_TS["test.ts"]}),
    Case("UTF-16 .ts", "train", ts_args(), "Error: Invalid data config (data=ts): {dir}/train.ts is UTF-16 text: save it as UTF-8 (a .ts file is read as UTF-8).",
         files={"train.ts": GOOD_TS["train.ts"].decode().encode("utf-16"), "test.ts": GOOD_TS["test.ts"]}),
    Case("empty .ts", "train", ts_args(), "Error: ...{dir}/train.ts...", files={"train.ts": b"", "test.ts": GOOD_TS["test.ts"]}),
    Case(".ts header without data", "train", ts_args(), "Error: ...{dir}/train.ts...",
         files={"train.ts": ts_text([]), "test.ts": GOOD_TS["test.ts"]}),
    Case(".ts channels differ", "train", ts_args(), "Error: ...{dir}/train.ts...line...",
         files={"train.ts": ts_text(ts_rows(24, 20) + ["0.1,0.2:0.3,0.4:a"]), "test.ts": GOOD_TS["test.ts"]}),
    Case(".ts label not declared", "train", ts_args(), "Error: ...{dir}/train.ts...",
         files={"train.ts": ts_text(ts_rows(24, 20, label_of=lambda i: "zz")), "test.ts": GOOD_TS["test.ts"]}),
    Case(".ts series of length 1", "train", ts_args(), "Error: Invalid data config (data=ts): Every series is 1 step long...",
         files={"train.ts": ts_text(ts_rows(24, 1)), "test.ts": ts_text(ts_rows(10, 1))}),
    Case(".ts single class", "train", ts_args(), "Error: Invalid data config (data=ts): The data holds a single class ('a'); a classifier needs at least two...",
         files={"train.ts": ts_text(ts_rows(24, 20, label_of=lambda i: "a"), labels="a"), "test.ts": ts_text(ts_rows(10, 20, label_of=lambda i: "a"), labels="a")}),
    Case(".ts test class unseen in training", "train", ts_args(), "Error: ...{dir}/test.ts...",
         files={"train.ts": GOOD_TS["train.ts"], "test.ts": ts_text(ts_rows(10, 20, label_of=lambda i: "c"), labels="a b c")}),
    Case(".ts infinite value", "train", ts_args(), "Error: ...{dir}/train.ts...",
         files={"train.ts": ts_text(ts_rows(24, 20, value=lambda i, t: "inf" if (i, t) == (3, 4) else "0.5")), "test.ts": GOOD_TS["test.ts"]}),
    Case(".ts values beyond float32", "train", ts_args() + ["data.normalize=global"],
         "Error: Invalid data config (data=ts): {dir}/train.ts, line 8: holds a value beyond float32's range...",
         files={"train.ts": ts_text(ts_rows(24, 20, value=lambda i, t: f"{1e39 * (1 + (i + t) % 3):.3e}")), "test.ts": GOOD_TS["test.ts"]}),
    Case("binary .csv", "train", ["data=csv", "data.train_path={dir}/long.csv", *CSV_COLUMNS], "Error: ...{dir}/long.csv...",
         files={"long.csv": GARBAGE}),
    Case("UTF-16 .csv", "train", ["data=csv", "data.train_path={dir}/long.csv", *CSV_COLUMNS], "Error: Invalid data config (data=csv): {dir}/long.csv is UTF-16 text: save it as UTF-8 (a CSV file is read as UTF-8).",
         files={"long.csv": LONG_CSV.read_text().encode("utf-16")}),
    Case(".csv missing column", "train", ["data=csv", "data.train_path={dir}/long.csv", "data.feature_columns=[nope]", "data.label_column=label"],
         "Error: ...nope...", files={"long.csv": LONG_CSV.read_bytes()}),
    Case("a file that is not a CSV, its first line never quoted", "train", ["data=csv", "data.train_path={dir}/passwd", *CSV_COLUMNS],
         "Error: Invalid data config (data=csv): {dir}/passwd: its first line is not a comma-separated header, so it is not a CSV file: "
         "check data.train_path.", files={"passwd": b"root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/sh\n"}),
    Case("one long series to forecast and no test file", "train",
         ["model=seq2seq", "data=csv", "data.train_path={dir}/one.csv", "data.feature_columns=[value]", "data.horizon=12"],
         "Error: Invalid data config (data=csv): 1 series are too few to split with val_fraction=0.0 and test_fraction=0.15: "
         "add series or change the fractions.",
         files={"one.csv": ("series_id,time,value\n" + "".join(f"a,{t},{t % 12}\n" for t in range(240))).encode()}),
    Case("no test share and no test file", "train", [*ts_args(test=None), "data.test_fraction=0"],
         "Error: Invalid data config (data=ts): {dir}/train.ts: test_fraction=0 and no test_path leave no test series: "
         "give data.test_path or a test_fraction above 0.", files=GOOD_TS),
    Case(".csv infinite value", "train", ["data=csv", "data.train_path={dir}/long.csv", *CSV_COLUMNS], "Error: ...{dir}/long.csv...",
         files={"long.csv": csv_with(lambda text: replace_first_value(text, "inf"))}),
    Case(".csv NaN in static covariates", "train", ["data=csv", "data.train_path={dir}/long.csv", *CSV_COLUMNS, "data.static_columns=[sensor_gain]"],
         "Error: ...sensor_gain...", files={"long.csv": csv_with(lambda text: text.replace(",0.5,damped", ",nan,damped", 3))}),
    Case("NUL bytes in a .ts", "train", ts_args(), "Error: Invalid data config (data=ts): {dir}/train.ts holds NUL bytes, so it is binary, not a .ts text file: pass a .ts file.",
         files={"train.ts": b"\x00" * 64 + GOOD_TS["train.ts"], "test.ts": GOOD_TS["test.ts"]}),
    Case("binary .npz", "train", ["data=npz", "data.train_path={dir}/x.npz"], "Error: ...{dir}/x.npz...", files={"x.npz": GARBAGE}),
    Case(".npz without y", "train", ["data=npz", "data.train_path={dir}/x.npz"], "Error: ...{dir}/x.npz...y...",
         files={"x.npz": lambda directory: np.savez(directory / "x.npz", X=np.zeros((20, 10, 1), "float32"))}),
    Case(".npz NaN in static covariates", "train", ["data=npz", "data.train_path={dir}/x.npz"], "Error: Invalid data config (data=npz): The train split's static covariates hold NaN or infinite values...",
         files={"x.npz": lambda directory: np.savez(
             directory / "x.npz", X=np.random.default_rng(0).normal(size=(40, 10, 1)).astype("float32"),
             y=np.array(["a", "b"] * 20), static=np.where(np.arange(40)[:, None] == 5, np.nan, 1.0).astype("float32"))}),
    Case("labels with commas and non-ASCII characters", "train", ["data=csv", "data.train_path={dir}/long.csv", *CSV_COLUMNS, "debug=smoke"],
         None, code=0, files={"long.csv": csv_with(lambda text: text.replace(",damped", ',"café, noir"').replace(",sine", ",thé"))},
         accepted=lambda output: sorted(json.loads((output / "classes.json").read_text())) == ["café, noir", "thé"]),
    Case("values near 1e30 scaled in float64", "train", ts_args() + ["data.normalize=global", "debug=smoke"], None, code=0,
         files={"train.ts": ts_text(ts_rows(24, 20, value=lambda i, t: f"{1e30 * (1 + (i + t) % 3):.3e}")), "test.ts": GOOD_TS["test.ts"]},
         accepted=lambda output: 0 < np.ravel(json.loads((output / "scaler.json").read_text())["std"])[0] < 1e31),
    Case("integer learning rate", "train", ["debug=smoke", "trainer.learning_rate=1"], None, code=0,
         accepted=lambda output: json.loads((output / "metrics.json").read_text())["epochs_run"] == 1),
    Case("forecast history too short", "train", ["data=forecast", "data.train_path={dir}/wide.csv", "data.horizon=5"],
         "Error: Invalid data config (data=forecast): {dir}/wide.csv, series 'B' (line 3): the history has 12 steps, fewer than the 17 that "
         "a context of 2 and 3 horizons of 5 need (training, validation, test): lower data.horizon or remove the series.",
         files={"wide.csv": b"id,v1\nA," + b",".join(b"%d" % t for t in range(40)) + b"\nB," + b",".join(b"%d" % t for t in range(12)) + b"\n"}),
    Case("forecast test file lacks a series", "train",
         ["data=forecast", "data.train_path={dir}/wide.csv", "data.test_path={dir}/test.csv", "data.horizon=2"],
         "Error: Invalid data config (data=forecast): {dir}/test.csv: no series 'A', which {dir}/wide.csv, series 'A' (line 2) holds: "
         "give every history its test values.",
         files={"wide.csv": b"id,v1\nA," + b",".join(b"%d" % t for t in range(40)) + b"\n", "test.csv": b"id,v1\nB,1,2\n"}),
    Case("forecast value not a number", "train", ["data=forecast", "data.train_path={dir}/long.csv", "data.horizon=2"],
         "Error: Invalid data config (data=forecast): {dir}/long.csv, line 3: column 'load' holds a non-numeric value 'many'.",
         files={"long.csv": b"id,time,load\na,2024-01-01,1\na,2024-01-02,many\n"}),
    # --- finished runs: evaluate and predict ---
    Case("evaluate a missing run", "evaluate", ["run_dir={dir}/nothing"],
         "Error: Run directory {dir}/nothing does not exist: pass run_dir=<a directory under outputs/runs>."),
    Case("evaluate a directory that is not a run", "evaluate", ["run_dir={dir}"], "Error: {dir} holds no config.yaml, so it is not a training run directory..."),
    Case("evaluate a half-written run", "evaluate", ["run_dir={run}"], "Error: {run} holds no best checkpoint...",
         change_run=lambda run: [path.unlink() for path in (run / "checkpoints").iterdir()] and (run / "metrics.json").unlink()),
    Case("evaluate ckpt=last missing", "evaluate", ["run_dir={run}", "ckpt=last"], "Error: {run} holds no last checkpoint...",
         change_run=lambda run: (run / "checkpoints" / "last.keras").unlink()),
    Case("evaluate a missing checkpoint file", "evaluate", ["run_dir={run}", "ckpt={dir}/none.keras"], "Error: Checkpoint file {dir}/none.keras does not exist..."),
    Case("evaluate a truncated checkpoint", "evaluate", ["run_dir={run}"], "Error: Checkpoint {run}/checkpoints/best.keras could not be loaded...",
         change_run=lambda run: (run / "checkpoints" / "best.keras").write_bytes((run / "checkpoints" / "best.keras").read_bytes()[:500])),
    Case("evaluate a 0-byte checkpoint", "evaluate", ["run_dir={run}"], "Error: Checkpoint {run}/checkpoints/best.keras could not be loaded...",
         change_run=lambda run: (run / "checkpoints" / "best.keras").write_bytes(b"")),
    Case("evaluate a checkpoint holding a lambda", "evaluate", ["run_dir={run}", "ckpt={dir}/lambda.keras"], "Error: Checkpoint {dir}/lambda.keras holds Python code (a Lambda layer's lambda), which the zoo refuses to load: unsafe deserialization could run anything, and the zoo never writes such files; pass a .keras file written by train.py.",
         files={"lambda.keras": lambda_checkpoint}),
    Case("evaluate a checkpoint of another config", "evaluate", ["run_dir={run}", "ckpt={dir}/other.keras"], "Error: ...{dir}/other.keras...",
         files={"other.keras": lambda directory: keras.Sequential([keras.Input((64, 3)), keras.layers.LSTM(3)]).save(directory / "other.keras")}),
    Case("evaluate a config naming foreign code", "evaluate", ["run_dir={run}"], "Error: {run}/config.yaml names _target_ 'builtins.open'...",
         change_run=write_yaml_target),
    Case("evaluate a config that is not YAML", "evaluate", ["run_dir={run}"], "Error: {run}/config.yaml is not a valid YAML config (ParserError): restore the file train.py wrote.",
         change_run=lambda run: (run / "config.yaml").write_text("model: [unclosed\n  : :")),
    Case("evaluate a config edited to another head", "evaluate", ["run_dir={run}"],
         "Error: Checkpoint {run}/checkpoints/best.keras outputs shape (5,) but model.head=forecast on the run's data needs (8, 3)...",
         change_run=lambda run: (run / "config.yaml").write_text((run / "config.yaml").read_text().replace("head: classify", "head: forecast"))),
    Case("evaluate a scaler that is not JSON", "evaluate", ["run_dir={run}"], "Error: {run}/scaler.json does not hold the scaling statistics train.py writes (UnicodeDecodeError): restore the run's scaler.json.",
         change_run=lambda run: (run / "scaler.json").write_bytes(GARBAGE)),
    Case("evaluate a negative batch size", "evaluate", ["run_dir={run}", "batch_size=-4"],
         "Error: Received an invalid value for batch_size, expected a positive integer, got -4."),
    Case("evaluate a batch size that is not a number", "evaluate", ["run_dir={run}", "batch_size=abc"],
         "Error: Received an invalid value for batch_size, expected a positive integer, got 'abc'."),
    Case("evaluate a YAML alias bomb", "evaluate", ["run_dir={run}"],
         "Error: {run}/config.yaml uses YAML anchors or aliases, which train.py never writes: restore the file train.py wrote.",
         change_run=billion_laughs),
    Case("predict with a YAML alias bomb", "predict", ["run_dir={run}", "input={dir}/x.ts"],
         "Error: {run}/config.yaml uses YAML anchors or aliases, which train.py never writes: restore the file train.py wrote.",
         change_run=billion_laughs, files={"x.ts": b"@data\n"}),
    Case("evaluate a config of a megabyte", "evaluate", ["run_dir={run}"],
         "Error: {run}/config.yaml is larger than any config train.py writes: restore the file train.py wrote.",
         change_run=lambda run: (run / "config.yaml").write_text((run / "config.yaml").read_text() + "#" * 1_100_000 + "\n")),
    Case("predict over the run's checkpoint", "predict", ["run_dir={run}", "input={dir}/x.ts", "output={run}/checkpoints/best.keras"],
         "Error: output={run}/checkpoints/best.keras lies among the run's own files, which predictions must not replace: "
         "choose a path outside {run} or under its predictions/.", files={"x.ts": b"@data\n"}),
    Case("predict over its input", "predict", ["run_dir={run}", "input={dir}/x.ts", "output={dir}/x.ts"],
         "Error: output={dir}/x.ts is the input file, which predictions must not replace: choose another output.", files={"x.ts": b"@data\n"}),
    Case("predict over an existing file", "predict", ["run_dir={run}", "input={dir}/x.ts", "output={dir}/mine.csv"],
         "Error: output={dir}/mine.csv exists already: pass overwrite=true to replace it, or choose another output.",
         files={"x.ts": b"@data\n", "mine.csv": b"my own table"}),
    Case("predict a batch size of zero", "predict", ["run_dir={run}", "input={dir}/x.ts", "batch_size=0"],
         "Error: Received an invalid value for batch_size, expected a positive integer, got 0.", files={"x.ts": b"@data\n"}),
    Case("predict a missing input", "predict", ["run_dir={run}", "input={dir}/none.ts"],
         "Error: Input file {dir}/none.ts does not exist: pass input=<a .ts, .csv or .npz file>."),
    Case("predict a binary input", "predict", ["run_dir={run}", "input={dir}/x.ts"],
         "Error: {dir}/x.ts is not UTF-8 text (byte 0x80 at offset 128): pass a .ts file saved as UTF-8 text.", files={"x.ts": GARBAGE}),
    Case("predict an input with other channels", "predict", ["run_dir={run}", "input={dir}/x.ts"], "Error: Series 0 has shape (64, 1) but the run was trained on 3 features per step: pass arrays of shape (length, 3).",
         files={"x.ts": ts_text(ts_rows(4, 64, label_of=None), labels=None)}),
    Case("predict an unknown file type", "predict", ["run_dir={run}", "input={dir}/x.parquet"],
         "Error: Input file {dir}/x.parquet is not .ts, .csv or .npz: convert it to one of those formats.", files={"x.parquet": b"PAR1"}),
    # --- run directories (the real command: the lock is a Hydra callback) ---
    Case("run directory is a file", "cli:train.py", ["debug=smoke", "hydra.run.dir={dir}/taken"],
         "Error: {dir}/taken is a file, not a run directory: choose another hydra.run.dir.", files={"taken": b"a file"}),
    Case("run directory holds a finished run", "cli:train.py", ["debug=smoke", "hydra.run.dir={run}"],
         "Error: {run} already holds a finished run (metrics.json); training there would overwrite it: choose another hydra.run.dir or delete that directory."),
    Case("two runs into one directory", "cli:train.py", ["debug=smoke", "hydra.run.dir={dir}/busy"],
         "Error: {dir}/busy is in use by another run (process ...",
         files={"busy/.lock": lambda directory: (directory / "busy" / ".lock").write_text(json.dumps({"pid": os.getppid(), "host": os.uname().nodename}))}),
    Case("run directory holds someone else's files", "cli:train.py", ["debug=smoke", "hydra.run.dir={dir}/mine"],
         "Error: {dir}/mine holds files that are not a zoo run, which training there could overwrite: choose a new or empty hydra.run.dir.",
         files={"mine/notes.txt": b"my notes"}),
    # The config is checked before the directory is looked at, and neither check writes the log.
    Case("a bad override next to a user's train.log", "cli:train.py", ["model.units=-3", "hydra.run.dir={dir}/p/userdir"],
         "Error: Invalid model config (model=last_state): Received an invalid value for units, expected a positive integer, got -3.",
         files={"p/userdir/train.log": b"notes"}),
    Case("resume a config with a BackupAndRestore callback", "train", ["resume={run}"],
         "Error: {run}/config.yaml names _target_ 'keras.callbacks.BackupAndRestore'...", files={"precious": precious_directory},
         change_run=edit_config(lambda config, run: config["callbacks"].update(
             evil={"_target_": "keras.callbacks.BackupAndRestore", "backup_dir": str(run.parent / "precious")}))),
    Case("resume a config with a CSVLogger callback", "train", ["resume={run}"],
         "Error: {run}/config.yaml names _target_ 'keras.callbacks.CSVLogger'...", files={"victim.txt": b"keep me"},
         change_run=edit_config(lambda config, run: config["callbacks"].update(
             evil={"_target_": "keras.callbacks.CSVLogger", "filename": str(run.parent / "victim.txt")}))),
    Case("resume a config that logs outside the run", "train", ["resume={run}"],
         "Error: {run}/config.yaml sets logger.tensorboard.log_dir outside the run directory, where a resumed run must not write: "
         "restore the config train.py wrote.",
         change_run=edit_config(lambda config, run: config["logger"]["tensorboard"].update(log_dir="/tmp/zoo-elsewhere"))),
    Case("resume a config whose MLflow store is another database", "train", ["resume={run}"],
         "Error: {run}/config.yaml sets logger.mlflow.tracking_uri to sqlite:////tmp/zoo-elsewhere/notes.db, a store that is not "
         "the run's own (an mlflow.db or mlruns in the run directory or a folder above it), where a resumed run must not write: "
         "restore the config train.py wrote.",
         change_run=edit_config(lambda config, run: config["logger"].update(mlflow={
             "_target_": "zoo.mlflow_logger.MLflowLogger", "tracking_uri": "sqlite:////tmp/zoo-elsewhere/notes.db",
             "experiment_name": "zoo", "run_dir": str(run)}))),
    Case("resume a finished run", "cli:train.py", ["resume={run}"], "Error: {run} already holds a finished run (metrics.json)..."),
    Case("resume with other overrides", "cli:train.py", ["resume={run}", "model.units=8"],
         "Error: resume={run} continues the run with its own saved config, so model.units=8 cannot apply: drop them, or start a new run with them.",
         change_run=lambda run: (run / "metrics.json").unlink()),
    Case("read-only output directory", "cli:train.py", ["debug=smoke", "hydra.run.dir={dir}/readonly/run"],
         "Error: Cannot write to {dir}/readonly/run (...): choose a writable hydra.run.dir or paths.log_dir.", read_only="readonly"),
    Case("full disk", "cli:train.py", ["debug=smoke", "hydra.run.dir={dir}/full"],
         "Error: Cannot write {dir}/full/checkpoints/best.keras (File too large): free space there or choose a writable paths.log_dir; the files already written are whole.",
         limit_file_size=20_000),
]


def expected(line, directory, run):
    return line.replace("{dir}", str(directory)).replace("{run}", str(run))


def matches(actual, pattern):
    """`pattern` is the whole line, or, with "...", its pieces in order."""
    if "..." not in pattern:
        return actual == pattern
    position = 0
    for piece in pattern.split("..."):
        found = actual.find(piece, position)
        if found < 0 or (position == 0 and pattern[:3] != "..." and found != 0):
            return False
        position = found + len(piece)
    return True


def snapshot(directory):
    return {path: path.read_bytes() for path in directory.rglob("*") if path.is_file() and path.name != ".lock"}


def make_files(case, directory):
    for name, content in case.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(directory)
        else:
            path.write_bytes(content)


@contextlib.contextmanager
def read_only_directory(path):
    """Makes `path` a read-only tmpfs for the block; yields the file-size limit to use instead, if mounting is not allowed."""
    path.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(path)], capture_output=True).returncode == 0
    try:
        yield None if mounted else 16
    finally:
        if mounted:
            subprocess.run(["umount", str(path)], check=True)


def run_subprocess(script, args, limit_file_size):
    completed = run_to_end(start_cli(script, *args, file_size_limit=limit_file_size))
    return completed.returncode, completed.stderr


def test_the_table_has_at_least_ninety_cases():
    assert len(CASES) >= 90 and len({case.id for case in CASES}) == len(CASES)


def tiered(case):
    """The case as a parameter with its tier: a subprocess is slow, an in-process run integration."""
    subprocess_case = case.command.startswith("cli:") or bool(case.read_only)
    return pytest.param(case, id=case.id, marks=pytest.mark.slow if subprocess_case else pytest.mark.integration)


@pytest.mark.parametrize("case", [tiered(case) for case in CASES])
def test_bad_input_ends_with_one_line(case, smoke_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run, ignore=shutil.ignore_patterns(".lock"))
    if case.change_run:
        case.change_run(run)
    make_files(case, tmp_path)
    before = snapshot(tmp_path)
    args = [expected(arg, tmp_path, run) for arg in case.args]
    if case.read_only:
        with read_only_directory(tmp_path / case.read_only) as limit:
            code, stderr = run_subprocess(case.command[4:], args, limit)
    elif case.command.startswith("cli:"):
        code, stderr = run_subprocess(case.command[4:], args, case.limit_file_size)
    else:
        code, stderr = run_task_in_process(case.command, args, capsys, output_dir=tmp_path / "output")
    # Every line counts: `import zoo` drops TensorFlow's C++ start-up lines (zoo/native_output.py).
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert code == case.code, stderr[-2000:]
    assert "Traceback" not in stderr
    if case.line is None:
        assert case.accepted(tmp_path / "output")
    else:
        line = (lines[0] if case.first_line else lines[-1]) if lines else ""
        assert matches(line, expected(case.line, tmp_path, run)), f"line: {line!r}"
    after = snapshot(tmp_path)
    lost = [str(path) for path, content in before.items() if after.get(path) != content]
    assert not lost, f"files changed or lost: {lost}"
    # Refused before training: no run directory. (A monitor Keras does not report is known only
    # after the first epoch; a diverged run keeps what it wrote and no metrics.json.)
    if case.code:
        assert not (tmp_path / "output").exists() or case.id in {"monitor not reported", "diverging loss"}
        assert not (tmp_path / "output" / "metrics.json").exists()
