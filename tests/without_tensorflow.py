"""Runs a zoo command as if TensorFlow were not installed: `python tests/without_tensorflow.py <script or -m<module>> <args...>`.

Any `import tensorflow` then fails, as on a machine with JAX or PyTorch alone.
"""

import runpy
import sys

sys.modules["tensorflow"] = None  # `import tensorflow` raises ImportError from here on
script, *arguments = sys.argv[1:]
sys.argv = [script, *arguments]
if script.startswith("-m"):
    runpy.run_module(script[2:], run_name="__main__", alter_sys=True)
else:
    runpy.run_path(script, run_name="__main__")
