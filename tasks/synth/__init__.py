"""The embedded default tasks: a seeded synthetic language family, offline, all three kinds.

* :mod:`tasks.synth.lexicon` — the proto-language lexicon (word roots by key);
* :mod:`tasks.synth.language` — daughter languages and their knobs and distance;
* :mod:`tasks.synth.family` — default source/target languages and the task base class;
* :mod:`tasks.synth.topic` (``synth-topic``), :mod:`tasks.synth.qa` (``synth-qa``),
  :mod:`tasks.synth.summarization` (``synth-summ``) — the three tasks.

Nothing is imported here, so ``import tasks.synth`` stays cheap.
"""
