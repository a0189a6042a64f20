"""Every option of every config group composes, and the model and data groups build."""

import inspect
from pathlib import Path

import keras
import pytest
from conftest import CONFIG_DIR, EXAMPLE_DATA, compose_config
from hydra.errors import MissingConfigException
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf

from zoo import ZooError, list_models, model_info
from zoo.config import KERAS_CALLBACK_OPTIONS, LOGGER_OPTIONS, TRAINER_KEYS, check_before_keras
from zoo.runs.saved_config import check_saved_targets
from zoo.tasks import improvement_mode
from zoo.training.adaptive import fill_modes
from zoo.training.builders import build_dataset, build_model, build_optimizer, check_optimizer_values

pytestmark = pytest.mark.unit

GROUPS = ["model", "data", "trainer", "callbacks", "logger", "paths", "hydra", "experiment", "debug"]


def options(group):
    """The options a user can choose in `group` (shared parts sit at the top of configs/, in no group)."""
    return sorted(path.stem for path in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def test_every_group_has_options():
    for group in GROUPS:
        assert options(group), f"configs/{group}/ is empty"


@pytest.mark.parametrize("group, typo", [("model", "lstm"), ("hparams_search", "lstm_optuna")])
def test_an_unknown_choice_lists_exactly_the_choices_a_user_has(group, typo):
    with pytest.raises(MissingConfigException) as error:
        compose_config(overrides=[f"{group}={typo}"])
    listed = str(error.value).split(f"Available options in '{group}':\n")[1].split("\nConfig search path")[0].split()
    assert listed == options(group) and len(listed) == len(list_models())
    assert not [path for path in (Path(CONFIG_DIR) / group).iterdir() if path.is_dir()]  # --help would list a subfolder as a group


def test_registry_and_model_configs_agree():
    assert options("model") == list_models()
    for name in list_models():
        cfg = compose_config(overrides=[f"model={name}"])
        assert cfg.model.name == name


@pytest.mark.parametrize("group", [g for g in GROUPS if g not in ("hydra", "paths")])
def test_every_option_composes_and_instantiates(group, tmp_path):
    for option in options(group):
        example = EXAMPLE_DATA.get(option, []) if group == "data" else []
        cfg = compose_config(overrides=[f"{group}={option}", "debug=smoke", *example], output_dir=tmp_path)
        dataset = build_dataset(cfg.data)
        model = build_model(cfg.model, dataset.spec)
        assert isinstance(model, keras.Model)
        callbacks = [instantiate(c) for c in cfg.callbacks.values()] + [instantiate(c) for c in cfg.logger.values()]
        assert all(isinstance(c, keras.callbacks.Callback) for c in callbacks)


@pytest.mark.parametrize("group", [g for g in GROUPS if g not in ("hydra", "paths")] + ["hparams_search"])
def test_every_option_passes_the_checks_made_before_keras_loads(group):
    for option in options(group):
        example = EXAMPLE_DATA.get(option, []) if group == "data" else []
        check_before_keras(compose_config(overrides=[f"{group}={option}", *example], fill_auto=False))


def test_an_unknown_top_level_key_is_refused_naming_the_group_that_has_it():
    with pytest.raises(ZooError, match=r"^Invalid config: it has no key 'epochs' \(did you mean trainer.epochs\?\); remove epochs"):
        check_before_keras(compose_config(overrides=["+epochs=3"], fill_auto=False))
    with pytest.raises(ZooError, match=r"^Invalid config: it has no key 'paths.runs_dir'; remove paths.runs_dir"):
        check_before_keras(compose_config(overrides=["+paths.runs_dir=x"], fill_auto=False))


def test_monitor_and_normalization_are_auto_and_follow_the_head():
    composed = compose_config(overrides=["data=ts"], fill_auto=False)
    assert (composed.monitor, composed.data.normalize) == ("auto", "auto")
    # To classify, the data's channels decide normalize once it is read (tests/data/test_normalize.py).
    assert (compose_config(overrides=["data=ts"]).monitor, compose_config(overrides=["data=ts"]).data.normalize) == ("val_accuracy", "auto")
    forecast = compose_config(overrides=["data=ts", "model.head=forecast"])
    assert (forecast.monitor, forecast.data.normalize) == ("val_loss", "global")
    assert compose_config(overrides=["monitor=val_loss"]).monitor == "val_loss"
    assert compose_config(overrides=["data=ts", "data.normalize=none"]).data.normalize == "none"


def test_every_model_config_states_the_registry_default_head():
    for name in list_models():
        assert compose_config(overrides=[f"model={name}"], fill_auto=False).model.head == model_info(name).default_head


def test_experiment_is_a_delta_on_the_defaults():
    cfg = compose_config(overrides=["experiment=bidirectional_gru"])
    assert (cfg.model.cell, cfg.model.bidirectional) == ("gru", True)
    assert cfg.data.n_samples == compose_config().data.n_samples


def test_an_option_the_chosen_data_source_lacks_is_named(tmp_path):
    cfg = compose_config(overrides=["data=ts", *EXAMPLE_DATA["ts"], "debug=quick"], output_dir=tmp_path)
    # debug=quick sets data.length and data.n_samples, which only data=synthetic takes.
    with pytest.raises(ZooError, match=r"Invalid data config \(data=ts\): it has no option 'length'; remove data.length"):
        build_dataset(cfg.data)


def test_an_option_the_model_lacks_is_refused_by_its_signature_not_its_error_text():
    cfg = compose_config(overrides=["model=last_state", "+model.attention_units=8"])
    with pytest.raises(ZooError, match=r"Invalid model config \(model=last_state\): it has no option 'attention_units'"):
        build_model(cfg.model, build_dataset(compose_config(overrides=["debug=smoke"]).data).spec)


def test_shared_recurrent_options_are_defined_once_and_every_model_has_them():
    shared = {"head", "cell", "units", "num_layers", "dropout", "bidirectional", "static_mode"}
    for name in list_models(recurrent=True):
        cfg = compose_config(overrides=[f"model={name}"])
        assert shared <= set(cfg.model) and shared <= model_info(name).options()
        assert cfg.model.head == model_info(name).default_head
    assert compose_config(overrides=["model=seq2seq"]).model.head == "forecast"
    # A model config may change a shared default (lstm_fcn: the paper's units and dropout), never repeat it.
    defaults = OmegaConf.load(Path(CONFIG_DIR, "recurrent_options.yaml"))
    for path in Path(CONFIG_DIR, "model").glob("*.yaml"):
        own = OmegaConf.load(path)
        if "/recurrent_options@_here_" not in list(own.get("defaults", [])):
            continue
        for key in shared - {"head"}:
            assert key not in own or own[key] != defaults[key], f"{path.name} repeats {key}={own[key]}"


def test_the_optimizer_is_any_keras_optimizer_class_with_its_own_arguments():
    adam = build_optimizer(compose_config(overrides=["trainer.learning_rate=2e-3"]).trainer)
    assert isinstance(adam, keras.optimizers.Adam) and adam.clipnorm == 1.0
    assert float(adam.learning_rate) == pytest.approx(2e-3)
    lion = build_optimizer(
        compose_config(overrides=["trainer.optimizer._target_=keras.optimizers.Lion", "trainer.learning_rate=1e-4"]).trainer
    )
    assert isinstance(lion, keras.optimizers.Lion) and float(lion.learning_rate) == pytest.approx(1e-4)
    sgd = build_optimizer(
        compose_config(overrides=["trainer.optimizer._target_=keras.optimizers.SGD", "+trainer.optimizer.momentum=0.9", "trainer.learning_rate=0.01"]).trainer
    )
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.momentum == 0.9
    with pytest.raises(ZooError, match=r"trainer.optimizer._target_, expected a keras.optimizers class .* got 'os.system'"):
        build_optimizer(compose_config(overrides=["trainer.optimizer._target_=os.system"]).trainer)
    with pytest.raises(ZooError, match=r"Invalid trainer.optimizer \(keras.optimizers.SGD\): .*nesterov_typo"):
        build_optimizer(
            compose_config(overrides=["trainer.optimizer._target_=keras.optimizers.SGD", "+trainer.optimizer.nesterov_typo=1", "trainer.learning_rate=0.01"]).trainer
        )


def test_optimizer_values_are_checked_by_one_update_and_leave_keras_names_as_they_were():
    keras.backend.clear_session()
    check_optimizer_values(compose_config(overrides=["trainer.learning_rate=1e-3", "+trainer.optimizer.weight_decay=0.01"]).trainer)
    assert keras.optimizers.Adam().name == "adam" and keras.Variable([1.0]).name == "variable"  # no counter moved
    with pytest.raises(ZooError, match=r"one update step failed \(weight_decay='abc' is not a number\)"):
        check_optimizer_values(compose_config(overrides=["trainer.learning_rate=1e-3", "+trainer.optimizer.weight_decay=abc"]).trainer)
    with pytest.raises(ZooError, match=r"Invalid trainer.optimizer \(keras.optimizers.Adam\): one update step failed \(.+\); give each"):
        check_optimizer_values(compose_config(overrides=["trainer.learning_rate=1e-3", "+trainer.optimizer.beta_1=[1,2]"]).trainer)


def test_callbacks_take_their_direction_from_the_one_rule():
    cfg = compose_config()
    assert cfg.callbacks.early_stopping.mode == "auto"
    fill_modes(cfg)
    assert cfg.callbacks.early_stopping.mode == improvement_mode("val_accuracy") == "max"
    assert cfg.callbacks.reduce_lr_on_plateau.mode == improvement_mode("val_loss") == "min"
    regress = compose_config(overrides=["model.head=regress"])
    fill_modes(regress)
    assert regress.callbacks.early_stopping.mode == "min"
    chosen = compose_config(overrides=["callbacks.early_stopping.mode=min"])
    fill_modes(chosen)
    assert chosen.callbacks.early_stopping.mode == "min"


def test_the_allowed_keras_callbacks_options_are_those_keras_takes():
    for name, options in KERAS_CALLBACK_OPTIONS.items():
        parameters = inspect.signature(getattr(keras.callbacks, name)).parameters.values()
        assert options == {p.name: p.default for p in parameters if p.kind is not p.VAR_KEYWORD}, name


def test_the_logger_options_are_those_the_loggers_take_but_what_the_zoo_passes():
    for target, options in LOGGER_OPTIONS.items():
        parameters = inspect.signature(get_object(target)).parameters
        assert options == tuple(name for name in parameters if name not in ("run_config", "model_summary")), target


def test_a_callback_option_keras_would_swallow_is_refused_before_keras():
    cfg = compose_config(overrides=["+callbacks.reduce_lr_on_plateau.factr=0.2"])
    with pytest.raises(ZooError, match=r"^Invalid callbacks config \(callbacks=default\): it has no option 'factr'; "
                                       r"remove callbacks.reduce_lr_on_plateau.factr from"):
        check_before_keras(cfg)


def test_a_saved_config_naming_foreign_code_is_refused(tmp_path):
    cfg = compose_config(overrides=["debug=smoke"], output_dir=tmp_path)
    check_saved_targets(cfg, "config.yaml")  # the zoo's own targets pass
    cfg.data = {"_target_": "builtins.open", "file": str(tmp_path / "victim"), "mode": "w"}
    with pytest.raises(ZooError, match=r"config.yaml names _target_ 'builtins.open', which is not one of the zoo's"):
        check_saved_targets(cfg, "config.yaml")


def test_the_trainer_options_the_zoo_reads_are_those_its_trainer_configs_set():
    default = OmegaConf.load(Path(CONFIG_DIR) / "trainer" / "default.yaml")
    assert list(default) == list(TRAINER_KEYS)
    gpu = OmegaConf.load(Path(CONFIG_DIR) / "trainer" / "gpu.yaml")
    assert set(gpu) - {"defaults"} <= set(TRAINER_KEYS)
