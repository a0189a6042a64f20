"""Evaluate a finished run: `python evaluate.py run_dir=<run directory> [ckpt=last]`."""

import hydra

import zoo  # noqa: F401  (registers the models and the config resolvers)
from zoo.cli import run_task
from zoo.evaluation import evaluate


@hydra.main(version_base="1.3", config_path="configs", config_name="evaluate")
def main(cfg):
    run_task(evaluate, cfg)


if __name__ == "__main__":
    main()
