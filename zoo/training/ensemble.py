"""`train_ensemble`: the training steps of `trainer.ensemble=N` (members and averaging: zoo.training.ensemble_members)."""

import functools
import logging
import shlex

from zoo.config import sweeper_direction
from zoo.inference import evaluate_splits
from zoo.runs.directory import as_typed, load_checkpoint
from zoo.tasks import monitored_value
from zoo.tasks.reports import get_report
from zoo.tensorboard_logger import write_run_summaries
from zoo.training.adaptive import adapt_to_data, check_sweeper_direction
from zoo.training.builders import build_dataset, build_model
from zoo.training.device import backend_name
from zoo.training.ensemble_members import member_config, member_results, write_ensemble_checkpoints
from zoo.training.loop import check_same_config, compile_for, model_summary, set_up_device, train, write_results, write_run_files

log = logging.getLogger(__name__)


def train_ensemble(cfg, task, run):
    """Trains the members of `trainer.ensemble=N` one after another, skipping finished ones (resume),
    then writes and scores the model that averages them.

    Returns:
        The ensemble's monitored metric, for a Hydra sweeper.
    """
    set_up_device(cfg)
    dataset = build_dataset(cfg.data)
    adapt_to_data(cfg, dataset)
    check_sweeper_direction(sweeper_direction(), cfg.monitor)
    run.remove_partial_files()
    check_same_config(run, cfg)
    size = cfg.trainer.ensemble
    if not run.config.is_file():
        write_run_files(run, cfg, dataset, model_summary(build_model(cfg.model, dataset.spec)))
    for index in range(size):
        member = run.member(index)
        if member.is_finished():
            log.info(f"Member {index + 1} of {size} (seed {cfg.seed + index}) finished earlier: kept ({member.path}).")
            continue
        log.info(f"Member {index + 1} of {size}: seed {cfg.seed + index}, in {member.path}.")
        train(member_config(cfg, index, run), ensemble_dir=run.path)
    set_up_device(cfg)
    write_ensemble_checkpoints(run, size, cfg.model.name, functools.partial(compile_for, cfg=cfg, spec=dataset.spec, task=task))
    results, member_line = member_results(run, size)
    best = load_checkpoint(run.best_checkpoint)
    metrics = {
        "model": cfg.model.name,
        "task": task.name,
        "backend": backend_name(),
        "monitor": cfg.monitor,
        "epochs_run": sum(result["epochs_run"] for result in results),  # over all members
        "ensemble": {
            "members": size,
            "seeds": [cfg.seed + index for index in range(size)],
            "best_epochs": [result["best_epoch"] for result in results],
            "test": [result["test"] for result in results],
        },
        **evaluate_splits(best, dataset, task, cfg.trainer.batch_size),
        **get_report(task.name).final_scores(best, dataset, cfg.trainer.batch_size),
    }
    write_results(run, cfg, task, metrics)
    if "tensorboard" in cfg.logger:  # the ensemble is a run of its own in the HParams table, beside its members
        write_run_summaries(cfg.logger.tensorboard.log_dir, run_config=cfg)
    test = ", ".join(f"{name} {value:.4g}" for name, value in sorted(metrics["test"].items()))
    typed = as_typed(run.path)
    for line in (
        f"Ensemble of {size} members (seeds {cfg.seed} to {cfg.seed + size - 1}), their outputs averaged: test {test}.",
        f"Members' test scores, mean ± sd: {member_line}.",
        f"Run directory: {typed} (members in members/)",
        f"Next: python evaluate.py {shlex.quote(f'run_dir={typed}')}",
    ):
        log.info(line)
    return monitored_value(metrics)
