"""`python -m zoo.bench`: speed and memory of every model, and the default model against peers (zoo.benchmarks.speed)."""

from zoo.benchmarks.speed import argument_parser, main

__all__ = ["argument_parser", "main"]

if __name__ == "__main__":
    main()
