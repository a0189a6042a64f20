"""Train a zoo model: `python train.py model=cnn_lstm` (configs/train.yaml lists every group)."""

import sys

import hydra

# Hydra's flags other than -m (--cfg, --info, ...) print the config without running its callbacks,
# which would import zoo and register the config resolvers: import it first for them.
if any(arg.startswith("-") and arg not in ("-m", "--multirun") for arg in sys.argv[1:]):
    import zoo  # noqa: F401


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg):
    # Imported once Hydra composed the config, so a typo fails before TensorFlow loads; by now the
    # run-directory callback imported zoo, which registers the models and the config resolvers.
    from zoo.cli import run_task
    from zoo.training.loop import train

    return run_task(train, cfg, discard_unstarted_run=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C while Hydra or TensorFlow start; later ones end in zoo.cli.run_task
        print("Interrupted: stopped at your request while starting.", file=sys.stderr)
        raise SystemExit(130) from None
