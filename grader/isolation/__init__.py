"""How learner code is launched and contained; runs in the trusted grade process and the batch.

    sandbox.py         the bubblewrap command line (or the plain fallback) and what it hides
    limits.py          the rlimits every worker gets
    cgroups.py         a memory + pids cgroup per worker, and the counters that name the limit hit
    processes.py       killing, finding and cleaning up what workers start
    launch.py          one way to start a worker, two launchers (fresh, forked by a zygote)
    zygote.py          a batch slot's preloaded sandboxed processes that fork workers
    servers.py         trusted fork servers (device, grade) and the handles a batch passes on
    wire.py            the request/reply format, decoded without trusting the worker
    safe_io.py         reading untrusted files and lines: fixed names, size caps, numeric .npy
    diagnosis.py       which limit ended a call, from exit status, counters and error
    learner_module.py  the grade process's handle on one learner module's worker
"""
