"""Train a zoo model: `python train.py model=cnn_lstm` (configs/train.yaml lists every group)."""

import hydra

import zoo  # noqa: F401  (registers the models and the config resolvers)
from zoo.cli import run_task
from zoo.training.loop import train


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg):
    return run_task(train, cfg, discard_unstarted_run=True)


if __name__ == "__main__":
    main()
