"""A backbone that is not CLIP, CLIP weights that cannot be downloaded, and an INPUT.SIZE that does
not fit the backbone end in one message that says what to do."""

import os
import urllib.error
import urllib.request

from prompting import clip_loading
from tests.reliability.train_args import toy_argv


def test_a_name_that_is_neither_clip_nor_a_file_is_refused_before_anything_is_built(
    toy, tmp_path, run_train
):
    output_dir = tmp_path / "run"
    result = run_train(toy_argv(toy, output_dir, "MODEL.BACKBONE.NAME", "ViT-B/61"))
    assert result.status == 2
    assert (
        'Error: MODEL.BACKBONE.NAME "ViT-B/61" is neither a CLIP model name nor an existing '
        'file. Did you mean "ViT-B/16"?'
    ) in result.err
    assert "'ViT-L/14'" in result.err  # the valid names are listed
    assert not os.path.exists(output_dir)


def test_clip_that_cannot_be_downloaded_says_where_to_put_the_file(
    toy, tmp_path, run_train, monkeypatch
):
    cache_dir = tmp_path / "clip_cache"
    monkeypatch.setattr(clip_loading, "CLIP_CACHE_DIR", str(cache_dir))
    requested = []

    def offline(url, *args, **kwargs):
        requested.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    result = run_train(
        toy_argv(
            toy, tmp_path / "run", "MODEL.BACKBONE.NAME", "ViT-B/16", "INPUT.SIZE", "(224, 224)"
        )
    )
    assert result.status == 2
    assert len(requested) == 1 and requested[0].endswith("/ViT-B-16.pt")
    assert 'Error: Could not download CLIP "ViT-B/16"' in result.err
    assert f'put the official file "ViT-B-16.pt" into {cache_dir}/' in result.err
    assert "Traceback" not in result.err


def test_a_file_that_is_not_a_checkpoint_is_refused(toy, tmp_path, run_train):
    not_clip = tmp_path / "half_downloaded.pt"
    not_clip.write_bytes(b"\x80\x02 cut short")
    result = run_train(toy_argv(toy, tmp_path / "run", "MODEL.BACKBONE.NAME", not_clip))
    assert result.status == 2
    assert f'Error: "{not_clip}" is neither a JIT archive nor a state_dict' in result.err


def test_input_size_that_does_not_match_clip_names_the_value_to_set(toy, tmp_path, run_train):
    result = run_train(toy_argv(toy, tmp_path / "run", "INPUT.SIZE", "(224, 224)"))
    assert result.status == 2
    assert (
        "Error: INPUT.SIZE (224, 224) does not match the CLIP backbone's resolution 32: "
        'set INPUT.SIZE "(32, 32)".'
    ) in result.err
