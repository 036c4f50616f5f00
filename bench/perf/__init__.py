"""``xlbench perf``: the framework's own speed benchmark (:mod:`.benchmark`), timing the
meta-steps of :mod:`.steps` against reference loops, and evaluation cells per second."""
