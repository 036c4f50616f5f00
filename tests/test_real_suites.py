"""The real-data suites parse, meet their coverage promises and name existing languages."""

from bench import registry
from bench.suite import instantiate, load_suite
from tasks.languages import language_info
from tasks.nusax import LANGUAGES
from tests.realdata import real


def test_real_cpu_covers_all_real_tasks_methods_and_many_scripts():
    suite = load_suite("real-cpu")
    assert {t.name for t in suite.tasks} == {"sib200", "nusax", "masakhanews", "masakhanews_headline", "xquad"}
    assert {"finetune", "logreg", "protonet", "maml", "reptile"} <= {m.name for m in suite.methods}
    assert suite.shots == (0, 1, 5, 10) and len(suite.seeds) >= 3
    sib = next(t for t in suite.tasks if t.name == "sib200").config
    assert len(sib["source_langs"]) >= 20 and len(sib["target_langs"]) >= 30
    assert len({language_info(lang).script for lang in sib["target_langs"]}) >= 8


def test_nusax_inlang_is_the_paper_setup():
    suite = load_suite("nusax-inlang")
    (task,) = suite.tasks
    assert task.config["source_langs"] == () or list(task.config["source_langs"]) == []
    assert sorted(task.config["target_langs"]) == sorted(LANGUAGES)
    assert suite.episodes == 1 and suite.queries is None and len(suite.shots) == 1
    assert [(m.label, m.config["features"]) for m in suite.methods] == [("logreg-tfidf", "tfidf")]
    assert suite.budgets[0].adapt_examples >= 500 * 1000


def test_real_cpu_languages_exist_in_the_real_data():
    root = real("sib-200")
    for spec in load_suite("real-cpu").tasks:
        cls = registry.resolve("task", spec.name)
        task = cls(instantiate(cls, spec.config), root)
        if hasattr(task, "available"):
            have = set(task.available())
            assert set(task.config.source_langs) | set(task.config.target_langs) <= have
