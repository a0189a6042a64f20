"""`python -m zoo.bench_real <folder>`: every classifier on real .ts sets next to published accuracies (zoo.benchmarks.real_series)."""

from zoo.benchmarks.real_series import argument_parser, main

__all__ = ["argument_parser", "main"]

if __name__ == "__main__":
    main()
