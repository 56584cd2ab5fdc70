"""The trusted device checker: runs a learner's saved model on two devices, without learner code.

`checker.py` runs in a process of its own (`python -m grader.device.checker`, or forked by the
batch's device server); it imports TensorFlow, checks the `.keras` archive (`archive.py`) before
Keras builds anything, and loads it with `safe_mode=True`. `client.py` is the grade process's side.
"""
