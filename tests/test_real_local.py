"""Data-directory resolution and the shared readers (tasks.local)."""

import pytest

from bench.errors import DataError
from tasks.local import ENV_VAR, dataset_dir, read_table
from tasks.sib200 import UPSTREAM, Sib200
from tests.realdata import write_sib


def test_finds_the_folder_under_the_data_dir_or_the_clone_itself(tmp_path):
    base = write_sib(tmp_path)
    assert dataset_dir(UPSTREAM, tmp_path) == base
    assert dataset_dir(UPSTREAM, base) == base


def test_falls_back_to_the_environment_variable(tmp_path, monkeypatch):
    base = write_sib(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert dataset_dir(UPSTREAM, None) == base
    task = Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_Latn",)), None)
    task.validate()


def test_missing_data_says_where_it_looked_and_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(DataError) as err:
        dataset_dir(UPSTREAM, tmp_path / "nowhere")
    message = str(err.value)
    assert str(tmp_path / "nowhere" / "sib-200") in message
    assert "--data-dir" in message and ENV_VAR in message
    assert "git clone https://github.com/dadelani/sib-200" in message
    with pytest.raises(DataError, match="neither --data-dir nor"):
        dataset_dir(UPSTREAM, None)


def test_read_table_keeps_line_numbers_across_multiline_records(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text('id\ttext\n1\t"two\nlines"\n\n2\tplain\n', encoding="utf-8")
    rows = read_table(path, ["id", "text"], "\t")
    assert [(r.line, r.fields["text"]) for r in rows] == [(2, "two\nlines"), (5, "plain")]
