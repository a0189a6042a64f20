"""PyTorch's nn.LSTM with the default model's sizes: the peer `python -m zoo.bench --compare` measures against.

Imports only torch and numpy, so it runs in any environment that has them (PyTorch is never a
dependency of the zoo):

    python zoo/benchmarks/torch_peer.py --batch-size 64 --steps 60 [--length 64 --features 3 --units 64 --classes 5]

Prints one JSON line: training series per second over the timed steps.
"""

import argparse
import json
import time

import numpy as np
import torch


class LastStateClassifier(torch.nn.Module):
    """nn.LSTM, its last hidden state, a Linear head: the zoo's `last_state` with default options."""

    def __init__(self, features, units, classes):
        super().__init__()
        self.lstm = torch.nn.LSTM(features, units, batch_first=True)
        self.head = torch.nn.Linear(units, classes)

    def forward(self, series):
        _, (hidden, _) = self.lstm(series)
        return self.head(hidden[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--features", type=int, default=3)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--classes", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    count = args.batch_size * (args.steps + args.warmup)
    series = torch.from_numpy(rng.normal(size=(count, args.length, args.features)).astype("float32"))
    labels = torch.from_numpy(rng.integers(0, args.classes, size=count))
    model = LastStateClassifier(args.features, args.units, args.classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_function = torch.nn.CrossEntropyLoss()

    def step(index):
        batch = slice(index * args.batch_size, (index + 1) * args.batch_size)
        optimizer.zero_grad()
        loss = loss_function(model(series[batch]), labels[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the zoo's trainer.clipnorm
        optimizer.step()

    for index in range(args.warmup):
        step(index)
    started = time.perf_counter()
    for index in range(args.warmup, args.warmup + args.steps):
        step(index)
    seconds = time.perf_counter() - started
    print(json.dumps({"series_per_second": args.steps * args.batch_size / seconds, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
