"""Built-in tasks: name -> "module:Class" (imported only when used).

``synth-*`` are the embedded offline default (generated in-process from a seed); the rest
read real datasets in their upstream layouts (``--data-dir`` or ``XLBENCH_DATA``).
"""

TASKS: dict[str, str] = {
    "synth-topic": "tasks.synth.topic:SynthTopic",
    "synth-qa": "tasks.synth.qa:SynthQA",
    "synth-summ": "tasks.synth.summarization:SynthSumm",
    "sib200": "tasks.sib200:Sib200",
    "nusax": "tasks.nusax:NusaX",
    "masakhanews": "tasks.masakhanews:MasakhaNews",
    "masakhanews_headline": "tasks.masakhanews:MasakhaNewsHeadline",
    "xquad": "tasks.xquad:XQuAD",
    "yaml": "tasks.declarative:YamlTask",  # a task from a YAML spec (tasks/taskspec.py)
}
