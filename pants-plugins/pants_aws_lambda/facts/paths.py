"""Where every Python runtime unpacks a function's code (`LAMBDA_TASK_ROOT`) and its layers, and the
directory of a layer that it puts on `sys.path`."""

from __future__ import annotations

TASK_ROOT = "/var/task"
LAYERS_ROOT = "/opt"
LAYER_PYTHON_DIR = "python"
