"""Built-in methods: name -> "module:Class" (imported only when used).

Transfer baselines: finetune, logreg. Meta-learners: maml (first_order: true = FOMAML),
reptile, protonet. Trivial calibration baselines: majority, lead, overlap.
"""

METHODS: dict[str, str] = {
    "finetune": "baselines.finetune:FineTune",
    "logreg": "baselines.logreg:LogReg",
    "protonet": "baselines.protonet:ProtoNet",
    "maml": "baselines.maml:MAML",
    "reptile": "baselines.reptile:Reptile",
    "majority": "baselines.trivial:Majority",
    "lead": "baselines.trivial:LeadK",
    "overlap": "baselines.trivial:QuestionOverlap",
}
