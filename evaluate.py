"""Evaluate a finished run: `python evaluate.py run_dir=<run directory> [ckpt=last]`."""

import sys

import hydra


@hydra.main(version_base="1.3", config_path="configs", config_name="evaluate")
def main(cfg):
    # Imported once Hydra composed the config, so a typo fails before TensorFlow loads.
    from zoo.cli import run_task
    from zoo.evaluation import evaluate

    run_task(evaluate, cfg)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C while Hydra or TensorFlow start; later ones end in zoo.cli.run_task
        print("Interrupted: stopped at your request while starting.", file=sys.stderr)
        raise SystemExit(130) from None
