"""Benchmarks: speed and memory against bare Keras and PyTorch (`python -m zoo.bench`), and every
classifier on real UCR sets (`python -m zoo.bench_real`). They print figures and assert nothing."""
