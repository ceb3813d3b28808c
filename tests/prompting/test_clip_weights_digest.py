"""weights_digest tells CLIPs apart by their weights alone."""

import torch

from prompting.clip_loading import clip_state_file, load_clip_to_cpu, weights_digest


def test_the_digest_is_the_same_for_the_same_weights_from_any_file(tiny_clip_path, tmp_path):
    loaded = load_clip_to_cpu(tiny_clip_path)
    copy_path = tmp_path / "copy.pt"
    torch.save(clip_state_file(loaded), copy_path)  # another file, the same weights
    assert weights_digest(load_clip_to_cpu(str(copy_path)).state_dict()) == weights_digest(
        loaded.state_dict()
    )


def test_one_changed_weight_changes_the_digest(tiny_clip_path):
    clip_model = load_clip_to_cpu(tiny_clip_path)
    before = weights_digest(clip_model.state_dict())
    with torch.no_grad():
        clip_model.ln_final.weight[0] += 1.0
    assert weights_digest(clip_model.state_dict()) != before


def test_the_same_values_in_another_dtype_have_another_digest(tiny_clip_path):
    clip_model = load_clip_to_cpu(tiny_clip_path)  # fp16 weights, as clip.build_model makes them
    assert weights_digest(clip_model.float().state_dict()) != weights_digest(
        load_clip_to_cpu(tiny_clip_path).state_dict()
    )
