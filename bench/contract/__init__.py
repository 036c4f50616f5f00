"""The method contract as tooling: the checks ``xlbench check`` runs (:mod:`.checks`), the
harness that feeds them tiny synthetic tasks (:mod:`.harness`), and the plugin scaffold
``xlbench new-method`` writes (:mod:`.scaffold`). The contract itself is
:class:`bench.method.Method` (docs/architecture.md, "Methods: the contract")."""
