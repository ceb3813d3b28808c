"""The shipped compact world CLIP: expands to exactly the pretrained weights, on every machine,
and is what the cache hands out for the default configuration."""

import dataclasses
import os

import pytest
import torch

from prompting.clip_loading import load_clip_to_cpu, read_state_file, weights_digest
from tools.ship_world_clip import main as ship_main
from tools.world import clip_cache, pretrain
from tools.world.compact_clip import ExpansionMismatch, compact, expand, load_compact

SHORT = dataclasses.replace(pretrain.DEFAULT_CONFIG, steps=2, batch_size=8, warmup_steps=1)


@pytest.fixture(scope="module")
def short_checkpoint(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("world") / "short.pt")
    clip_cache.build_world_clip(
        path, SHORT, progress=False, eval_per_class=1, require_learning=False
    )
    return path


def test_expanding_the_compact_form_gives_back_every_weight_exactly(short_checkpoint):
    state_dict = read_state_file(short_checkpoint)
    compact_weights = compact(state_dict, SHORT, report={})
    vocabulary_rows = compact_weights["token_rows"]
    # only the rows of words the captions use were trained: a few dozen of 49408
    assert 0 < len(vocabulary_rows) < 100
    expanded = expand(compact_weights)
    assert set(expanded) == set(state_dict)
    for name, tensor in state_dict.items():
        assert expanded[name].dtype == tensor.dtype and torch.equal(expanded[name], tensor), name


def test_an_initial_embedding_that_comes_out_otherwise_is_refused(short_checkpoint):
    state_dict = read_state_file(short_checkpoint)
    compact_weights = compact(state_dict, SHORT, report={})
    compact_weights["seed"] = SHORT.seed + 1  # as if this torch drew other initial rows
    with pytest.raises(ExpansionMismatch, match="weights digest"):
        expand(compact_weights)


def test_the_shipping_tool_refuses_to_overwrite_and_writes_a_file_that_expands(
    short_checkpoint, tmp_path, capsys
):
    out = tmp_path / "compact.pt"
    assert ship_main([short_checkpoint, "--out", str(out)]) == 0
    digest = weights_digest(read_state_file(short_checkpoint))
    assert load_compact(str(out))["weights_digest"] == digest
    before = out.read_bytes()
    assert ship_main([short_checkpoint, "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("Error: ")
    assert out.read_bytes() == before


def test_the_cache_expands_a_shipped_clip_of_its_config_instead_of_pretraining(
    short_checkpoint, tmp_path, monkeypatch
):
    shipped = tmp_path / "shipped.pt"
    assert ship_main([short_checkpoint, "--out", str(shipped)]) == 0
    monkeypatch.setattr(clip_cache, "SHIPPED_CLIP", str(shipped))
    monkeypatch.setattr(clip_cache, "build_world_clip", lambda *a, **k: pytest.fail("pretrained"))
    cache = tmp_path / "cache"
    path = clip_cache.world_clip_path(SHORT, cache_dir=str(cache), progress=False)
    expected = weights_digest(read_state_file(short_checkpoint))
    assert os.path.basename(path) == f"world-clip-shipped-{expected}.pt"
    assert weights_digest(load_clip_to_cpu(path).state_dict()) == expected
    assert os.path.realpath(cache / clip_cache.CURRENT_LINK) == os.path.realpath(path)


def test_another_config_is_pretrained_not_taken_from_the_shipped_clip(short_checkpoint, tmp_path):
    shipped = tmp_path / "shipped.pt"
    assert ship_main([short_checkpoint, "--out", str(shipped)]) == 0
    other = dataclasses.replace(SHORT, seed=SHORT.seed + 1)
    assert clip_cache.expand_shipped_clip(other, str(tmp_path), str(shipped)) is None


def test_the_repository_ships_a_clip_of_the_default_config_that_is_strong_zero_shot(tmp_path):
    compact_weights = load_compact(clip_cache.SHIPPED_CLIP)
    assert compact_weights["report"]["config"] == pretrain.DEFAULT_CONFIG.as_dict()
    path = clip_cache.expand_shipped_clip(pretrain.DEFAULT_CONFIG, str(tmp_path))
    # fresh held-out images (another seed than the report's): 20 per class, 960 in all
    accuracy, _ = pretrain.zero_shot_accuracy(load_clip_to_cpu(path).float(), per_class=20, seed=7)
    assert accuracy >= 95.0
