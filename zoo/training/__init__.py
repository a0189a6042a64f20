"""Training: `train(cfg)` as named steps (`zoo.training.loop`), with its builders, callbacks, the
adaptive rules, resume, device and compile policy, and distribution."""
