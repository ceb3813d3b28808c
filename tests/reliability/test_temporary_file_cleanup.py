"""Start-up clean-up removes only this project's own temporary files, by exact name, in the folders
a run writes them to: every file of the user's that merely looks temporary survives a run."""

import os

from run.run_folder import remove_temporary_files
from tests.reliability.train_args import toy_argv

MODEL = "prompt_learner"
# Left by writes killed midway: the exact temporary names of files a run writes, where it writes
# them (output folder: result.json, run_options.json; model folder: checkpoints, pointer, list).
LEFT_BY_A_KILL = [
    "result.json.tmp.4242",
    "run_options.json.tmp.17",
    f"{MODEL}/model.pth.tar-3.tmp.77",
    f"{MODEL}/model-best.pth.tar.tmp.8",
    f"{MODEL}/checkpoint.tmp.5",
    f"{MODEL}/resume_only_checkpoints.txt.tmp.90",
]
# The user's files: temporary-looking names, the right names in the wrong folders, near misses.
LOOK_ALIKES = [
    "notes/thesis.tmp.2024",
    ".tmp-draft.txt",
    "draft.tmp",
    "figure.png.tmp.3",
    "result.json.tmp.",
    "result.json.tmp.12a",
    "result.json.tmp.12.bak",
    "xresult.json.tmp.12",
    "log.txt.tmp.5",
    "notes/result.json.tmp.99",
    "notes/prompt_learner/checkpoint.tmp.3",
    "model.pth.tar-3.tmp.77",
    f"{MODEL}/.tmp-abc-model.pth.tar-1",
    f"{MODEL}/model.pth.tar-x.tmp.7",
    f"{MODEL}/result.json.tmp.3",
    f"{MODEL}/notes.tmp.1",
    "other_model/model.pth.tar-1.tmp.4",
]


def plant(root, names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"user data: {name}")


def files_under(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    )


def test_only_the_exact_temporary_names_in_the_run_folders_are_removed(tmp_path):
    plant(tmp_path, LEFT_BY_A_KILL + LOOK_ALIKES)
    (tmp_path / "result.json.tmp.55").mkdir()  # a folder, not a file the run wrote
    os.symlink(tmp_path / "notes" / "thesis.tmp.2024", tmp_path / "run_options.json.tmp.56")
    removed = remove_temporary_files(str(tmp_path), [MODEL])
    assert sorted(os.path.relpath(path, tmp_path) for path in removed) == sorted(LEFT_BY_A_KILL)
    assert files_under(tmp_path) == sorted(LOOK_ALIKES + ["run_options.json.tmp.56"])
    for name in LOOK_ALIKES:
        assert (tmp_path / name).read_text() == f"user data: {name}"
    assert (tmp_path / "result.json.tmp.55").is_dir()


def test_a_run_in_a_folder_of_look_alike_files_keeps_every_one(toy, tmp_path, run_train):
    output_dir = tmp_path / "existing"
    plant(output_dir, LOOK_ALIKES)
    result = run_train(toy_argv(toy, output_dir))
    assert result.status == 0, result.err
    for name in LOOK_ALIKES:
        assert (output_dir / name).read_text() == f"user data: {name}"
    assert (output_dir / "result.json").is_file()
