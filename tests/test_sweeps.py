"""Sweeps: parallel trials (joblib), a cluster launcher's local executor (submitit), Optuna searches per
model family; trials never share state, and a failed trial is reported while the sweep goes on."""

import json
from pathlib import Path

import pytest
import yaml
from conftest import CONFIG_DIR, ROOT, run_cli
from hydra import compose, initialize_config_dir
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from test_reference_metrics import REFERENCE, assert_same_metrics

from zoo import ZooError, list_models
from zoo.tasks import get_task, improvement_mode
from zoo.training.adaptive import check_sweeper_direction

pytestmark = pytest.mark.slow
SEARCHES = sorted(path.stem for path in (ROOT / "configs" / "hparams_search").glob("*_optuna.yaml"))


def trials(sweep_root):
    """The trial directories of the one sweep under `sweep_root`, by job number."""
    (sweep,) = [path for path in Path(sweep_root).glob("multiruns/*/*") if path.is_dir()]
    return sorted((path for path in sweep.iterdir() if path.is_dir() and path.name[0].isdigit()), key=lambda p: int(p.name.split("_")[0]))


def event_pids(trial):
    """The process ids in a trial's TensorBoard event file names (events.out.tfevents.<time>.<host>.<pid>.<n>.v2)."""
    return {path.name.split(".")[-3] for path in (trial / "tensorboard").glob("events.out.tfevents.*")}


def metrics(trial):
    return json.loads((trial / "metrics.json").read_text())


def test_joblib_trials_sharing_a_worker_share_no_state(tmp_path):
    # One worker runs both trials: last_state after attention must give the pinned last_state metrics.
    run_cli("train.py", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=1", "model=attention,last_state", "debug=smoke", f"paths.log_dir={tmp_path}")
    attention, last_state = trials(tmp_path)
    assert event_pids(attention) == event_pids(last_state)  # the same process
    expected = REFERENCE["classify_last_state"]["metrics"]
    assert_same_metrics({key: metrics(last_state)[key] for key in expected}, expected)


def snapshot(directory):
    return {path: path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def test_joblib_runs_trials_in_parallel_processes_goes_on_past_a_failed_one_and_a_rerun_skips_the_finished(tmp_path):
    sweep = tmp_path / "multiruns" / "day" / "sweep"
    command = ["train.py", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "model.units=-3,8", "debug=smoke",
               f"paths.log_dir={tmp_path}", f"hydra.sweep.dir={sweep}"]
    completed = run_cli(*command, check=False)
    failed, finished = trials(tmp_path)
    assert completed.returncode == 1  # after every trial ran, with a summary
    assert completed.stderr.strip().splitlines()[-1] == "Error: 1 of 2 trials failed (0_last_state_debug-smoke_model.units--3); each one's train.log says why."
    assert (
        "Error: Trial 0 (debug=smoke,model.units=-3,paths.log_dir=" in completed.stderr
        and "failed: Invalid model config (model=last_state): Received an invalid value for units, expected a positive integer, "
        "got -3; the sweep goes on." in completed.stderr
    )
    assert "failed: Invalid model config" in (failed / "train.log").read_text() and not (failed / "metrics.json").exists()
    assert metrics(finished)["model"] == "last_state"
    assert "Traceback" not in completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == f"Best classify trial by test_accuracy: {finished}"

    # The same command again: the finished trial is skipped with its scores, the failed one runs (and fails) again.
    kept = (finished / "metrics.json").read_bytes(), (finished / "checkpoints" / "best.keras").read_bytes()
    again = run_cli(*command, check=False)
    assert again.returncode == 1 and f"Re-running the sweep in {sweep}: finished trials are skipped" in again.stdout
    assert "skipped, its scores kept" in (finished / "train.log").read_text()
    assert ((finished / "metrics.json").read_bytes(), (finished / "checkpoints" / "best.keras").read_bytes()) == kept

    # Another sweep into that folder would rewrite its trials' .hydra/: refused before anything is written.
    before = snapshot(sweep)
    other = run_cli(*[arg.replace("-3,8", "4,8") for arg in command], check=False)
    assert other.returncode == 1
    assert other.stderr.strip().splitlines()[-1] == (
        f"Error: {sweep} holds a sweep of other overrides (model.units=-3,8 debug=smoke paths.log_dir={tmp_path}); it would rewrite those trials' .hydra/: re-run that exact command to finish it, "
        "or choose another hydra.sweep.dir."
    )
    assert snapshot(sweep) == before


def test_submitit_local_executor_runs_each_trial_as_a_job(tmp_path):
    run_cli("train.py", "-m", "hydra/launcher=submitit_local", "model=last_state,attention", "debug=smoke", f"paths.log_dir={tmp_path}")
    last_state, attention = trials(tmp_path)
    assert metrics(attention)["model"] == "attention"
    expected = REFERENCE["classify_last_state"]["metrics"]
    assert_same_metrics({key: metrics(last_state)[key] for key in expected}, expected)
    assert event_pids(last_state) != event_pids(attention)  # a process per job
    assert list((last_state.parent / ".submitit").iterdir())  # submitit's own job records


def test_optuna_search_maximises_the_monitor_logs_hparams_and_goes_on_past_failed_trials(tmp_path):
    # units=0 is refused when the model is built: the trials that sample it fail, the others train.
    completed = run_cli(
        "train.py", "hparams_search=last_state_optuna", "debug=smoke", "hydra.sweeper.n_trials=4",
        'hydra.sweeper.params={model.units:"choice(0, 16)",trainer.learning_rate:"tag(log, interval(3e-4, 1e-2))"}',
        f"paths.log_dir={tmp_path}", check=False,
    )
    assert completed.returncode == 1 and "trials failed" in completed.stderr.strip().splitlines()[-1]
    found = trials(tmp_path)
    failed = [trial for trial in found if not (trial / "metrics.json").exists()]
    assert len(found) == 4 and 0 < len(failed) < 4
    assert completed.stderr.count("the sweep goes on.") == len(failed)
    assert "Traceback" not in completed.stderr
    values = [metrics(trial)["validation"]["accuracy"] for trial in found if trial not in failed]
    results = yaml.safe_load((found[0].parent / "optimization_results.yaml").read_text())
    assert results["best_value"] == pytest.approx(max(values))  # maximised: the monitor is val_accuracy
    assert results["best_params"]["model.units"] == 16
    assert "Best parameters" in completed.stdout + completed.stderr
    for trial in (trial for trial in found if trial not in failed):
        sampled = dict(item.split("=", 1) for item in yaml.safe_load((trial / ".hydra" / "overrides.yaml").read_text()))
        accumulator = EventAccumulator(str(trial / "tensorboard"))
        accumulator.Reload()
        content = accumulator.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
        start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        assert start.hparams["trainer.learning_rate"].number_value == pytest.approx(float(sampled["trainer.learning_rate"]))
        assert start.hparams["model.units"].number_value == int(sampled["model.units"])


@pytest.mark.unit
@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_space_names_options_of_its_model_and_the_monitor_direction(search):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"hparams_search={search}"], return_hydra_config=True)
    model = search.removesuffix("_optuna")
    assert cfg.model.name == model
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.max_failure_rate == 1.0
    monitor = get_task(cfg.model.head).monitor  # what monitor: auto becomes with a validation split
    assert sweeper.direction == {"max": "maximize", "min": "minimize"}[improvement_mode(monitor)]
    check_sweeper_direction(sweeper.direction, monitor)
    for key in sweeper.params:
        group, name = key.split(".", 1)
        assert name in cfg[group], f"{search}: {key} is not an option of {group}"


@pytest.mark.unit
def test_every_model_has_a_search():
    assert SEARCHES == sorted(f"{name}_optuna" for name in list_models())


@pytest.mark.unit
def test_a_sweeper_direction_against_the_monitor_is_refused_in_one_line():
    with pytest.raises(ZooError) as error:
        check_sweeper_direction("maximize", "loss")
    assert str(error.value) == (
        "hydra.sweeper.direction=maximize, but this run monitors loss, which a better model lowers: "
        "set hydra.sweeper.direction=minimize or another monitor."
    )
    check_sweeper_direction(None, "loss")


@pytest.mark.unit
@pytest.mark.parametrize(
    "hydra, expected",
    [
        ({"overrides": {"task": ["model=last_state,attention", "seed=1,2,3", "debug=smoke"]}, "sweeper": {}}, 6),
        ({"overrides": {"task": ["trainer.batch_size=range(8,40,8)"]}, "sweeper": {}}, 4),
        ({"overrides": {"task": ["hparams_search=attention_optuna"]}, "sweeper": {"n_trials": 20}}, 20),
        ({"overrides": {"task": ["trainer.learning_rate=interval(1e-4,1e-2)"]}, "sweeper": {}}, None),
    ],
)
def test_a_trial_knows_how_many_the_sweep_runs(tmp_path, hydra, expected):
    from zoo.cli import saved_sweep, sweep_size

    (tmp_path / "multirun.yaml").write_text(yaml.safe_dump({"hydra": hydra}))
    assert sweep_size(saved_sweep(tmp_path)) == expected
    assert sweep_size(saved_sweep(tmp_path / "missing")) is None
