"""Where every Python runtime unpacks a function's code (`LAMBDA_TASK_ROOT`) and its layers, the
directory of a layer that it puts on `sys.path`, and where the runtime's own code (the runtime
client, the AWS SDK) lives."""

from __future__ import annotations

TASK_ROOT = "/var/task"
LAYERS_ROOT = "/opt"
LAYER_PYTHON_DIR = "python"
RUNTIME_ROOT = "/var/runtime"
