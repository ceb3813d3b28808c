"""The world CLIP cache: built once, reused, rebuilt when what determines it changes."""

import dataclasses
import os

from tools.world import build_files, clip_cache
from tools.world.pretrain import DEFAULT_CONFIG

TINY = dataclasses.replace(DEFAULT_CONFIG, steps=1, batch_size=8, warmup_steps=1)


def test_the_checkpoint_is_built_once_then_reused_and_linked(tmp_path, monkeypatch):
    builds = []
    real_build = clip_cache.build_world_clip

    def counting_build(path, config, progress):
        builds.append(config)
        return real_build(path, config, progress=False, eval_per_class=1, require_learning=False)

    monkeypatch.setattr(clip_cache, "build_world_clip", counting_build)
    first = clip_cache.world_clip_path(TINY, cache_dir=str(tmp_path))
    again = clip_cache.world_clip_path(TINY, cache_dir=str(tmp_path))
    assert first == again and builds == [TINY]
    assert os.path.isfile(first)
    assert os.path.isfile(os.path.splitext(first)[0] + ".json")
    link = tmp_path / clip_cache.CURRENT_LINK
    assert os.path.realpath(link) == os.path.realpath(first)


def test_the_key_changes_with_the_config_and_the_code(monkeypatch, tmp_path):
    key = clip_cache.cache_key(TINY)
    assert clip_cache.cache_key(TINY) == key
    assert clip_cache.cache_key(dataclasses.replace(TINY, seed=1)) != key
    files = build_files.source_files()
    assert any(path.endswith(os.path.join("world", "render.py")) for path in files)
    edited = tmp_path / "render.py"
    edited.write_text("# the renderer, edited\n")
    monkeypatch.setattr(build_files, "source_files", lambda: [*files, str(edited)])
    assert clip_cache.cache_key(TINY) != key
