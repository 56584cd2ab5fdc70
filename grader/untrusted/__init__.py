"""Code that runs in the learner's sandboxed process: `worker.py`, and nothing else.

The worker is not imported by the grader: it is run by path (`python -s -P -B worker.py`), mounted
alone into the sandbox at /opt/grader-worker/worker.py, and imports only the standard library and
numpy (TensorFlow when the learner's code does). What it sends back is data, re-checked by the
grade process (`grader/isolation/wire.py`).
"""
