"""tools/mutation_check.py: every listed mutation still applies, and a missing snippet is loud."""

import os

import pytest

from tools.mutation_check import MUTATIONS, REPO_ROOT, Mutation, apply


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_each_snippet_occurs_exactly_once_in_the_tree(mutation):
    with open(os.path.join(REPO_ROOT, mutation.path)) as file:
        assert file.read().count(mutation.original) == 1
    assert mutation.replacement != mutation.original
    for test in mutation.tests:
        assert os.path.exists(os.path.join(REPO_ROOT, test)), test


def test_mutation_names_are_unique():
    names = [mutation.name for mutation in MUTATIONS]
    assert len(names) == len(set(names))


def test_apply_replaces_the_snippet_in_the_copy_only(tmp_path):
    (tmp_path / "module.py").write_text("x = 1\ny = 2\n")
    apply(Mutation("m", "module.py", "y = 2", "y = 3", ()), str(tmp_path))
    assert (tmp_path / "module.py").read_text() == "x = 1\ny = 3\n"


@pytest.mark.parametrize("text", ["x = 1\n", "y = 2\ny = 2\n"])
def test_apply_refuses_a_missing_or_repeated_snippet(tmp_path, text):
    (tmp_path / "module.py").write_text(text)
    with pytest.raises(SystemExit, match="update tools/mutation_check.py"):
        apply(Mutation("m", "module.py", "y = 2", "y = 3", ()), str(tmp_path))
    assert (tmp_path / "module.py").read_text() == text
