"""`python -m zoo.bench_forecast <folder>`: every forecaster on real forecasting sets next to published scores (zoo.benchmarks.forecast_series)."""

from zoo.benchmarks.forecast_series import argument_parser, main

__all__ = ["argument_parser", "main"]

if __name__ == "__main__":
    main()
