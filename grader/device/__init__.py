"""The trusted device checker: runs a learner's saved model on two devices, without learner code.

`checker.py` runs in a process of its own (`python -m grader.device.checker`, or forked by the
batch's device server); it imports TensorFlow, checks the `.keras` archive (`archive.py`: its config
by the rules in `architecture.py`, allow-listed builtin layers in one chain, which the grade process
applies to the exported config too, and its weight file's shapes) before Keras builds anything, and loads
what it checked with `safe_mode=True`.
`client.py` is the grade process's side, which starts the checker under memory limits.
"""
