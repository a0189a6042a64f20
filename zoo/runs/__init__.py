"""Run directories: their paths and atomic writes, the lock that gives each to one run, and loading a finished run."""
