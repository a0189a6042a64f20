"""Every option of every config group composes, and the model and data groups build."""

from pathlib import Path

import keras
import pytest
from hydra.utils import instantiate

from conftest import CONFIG_DIR, EXAMPLE_DATA, compose_config
from zoo import list_models
from zoo.training import build_dataset, build_model

GROUPS = ["model", "data", "trainer", "callbacks", "logger", "paths", "hydra", "experiment", "debug"]


def options(group):
    return sorted(path.stem for path in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def test_every_group_has_options():
    for group in GROUPS:
        assert options(group), f"configs/{group}/ is empty"


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


def test_monitor_follows_the_head():
    assert compose_config().monitor == "val_accuracy"
    assert compose_config(overrides=["model.head=forecast"]).monitor == "val_loss"
    assert compose_config(overrides=["monitor=val_loss"]).monitor == "val_loss"


def test_experiment_is_a_delta_on_the_defaults():
    cfg = compose_config(overrides=["experiment=bidirectional_gru"])
    assert (cfg.model.cell, cfg.model.bidirectional) == ("gru", True)
    assert cfg.data.n_samples == compose_config().data.n_samples


def test_an_option_the_chosen_data_source_lacks_is_named(tmp_path):
    from zoo.errors import ZooError

    cfg = compose_config(overrides=["data=ts", *EXAMPLE_DATA["ts"], "debug=quick"], output_dir=tmp_path)
    with pytest.raises(ZooError, match=r"Invalid data config \(data=ts\): it has no option 'n_samples'"):
        build_dataset(cfg.data)
