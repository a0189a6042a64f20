"""PyTorch's nn.LSTM with the default model's sizes: the peer `python -m zoo.bench --compare` measures against.

Imports only torch and numpy, so it runs in any environment that has them (PyTorch is never a
dependency of the zoo):

    python zoo/benchmarks/torch_peer.py --batch-size 64 --steps 60 [--length 64 --features 3 --units 64 --classes 5 --device cuda]

Prints one JSON line: training and inference series per second over the timed steps (on a GPU,
nn.LSTM runs cuDNN's kernel).
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
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    count = args.batch_size * (args.steps + args.warmup)
    series = torch.from_numpy(rng.normal(size=(count, args.length, args.features)).astype("float32")).to(device)
    labels = torch.from_numpy(rng.integers(0, args.classes, size=count)).to(device)
    model = LastStateClassifier(args.features, args.units, args.classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_function = torch.nn.CrossEntropyLoss()

    def step(index):
        batch = slice(index * args.batch_size, (index + 1) * args.batch_size)
        optimizer.zero_grad()
        loss = loss_function(model(series[batch]), labels[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the zoo's trainer.clipnorm
        optimizer.step()

    def infer(index):
        with torch.no_grad():
            model(series[index * args.batch_size : (index + 1) * args.batch_size]).argmax(dim=1)

    def timed(function):
        for index in range(args.warmup):
            function(index)
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for index in range(args.warmup, args.warmup + args.steps):
            function(index)
        if device.type == "cuda":
            torch.cuda.synchronize()  # kernels run asynchronously: wait for the last one
        return args.steps * args.batch_size / (time.perf_counter() - started)

    training = timed(step)
    model.eval()
    inference = timed(infer)
    print(json.dumps({"series_per_second": training, "inference_series_per_second": inference, "torch": torch.__version__,
                      "device": str(device), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
