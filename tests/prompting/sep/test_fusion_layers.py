"""Fusion layer lists: defaults, validation, one TFM per fusion layer."""

import pytest

from prompting.sep import LayerwiseTokenFusion, TokenFusion, resolve_fusion_layers
from run.user_errors import ModelOptionError


@pytest.mark.parametrize("requested", [None, [], ()])
def test_none_or_empty_means_every_block_but_the_first(requested):
    assert resolve_fusion_layers(requested, 12) == tuple(range(1, 12))
    assert resolve_fusion_layers(requested, 24) == tuple(range(1, 24))


def test_layers_are_sorted_and_unique():
    assert resolve_fusion_layers([9, 3, 6, 3], 12) == (3, 6, 9)


@pytest.mark.parametrize("requested, offending", [([3, 12], "[12]"), ([-1, 0, 11, 30], "[-1, 30]")])
def test_out_of_range_layers_name_values_depth_and_option(requested, offending):
    """The model names its keyword argument; the trainer swaps in the config key
    (tests/reliability/test_sep_config_errors.py)."""
    with pytest.raises(ModelOptionError) as error:
        resolve_fusion_layers(requested, 12, encoder="text encoder")
    message = str(error.value)
    assert offending in message
    assert "depth 12" in message
    assert message.startswith("fusion_layers") and error.value.option == "fusion_layers"
    assert "text encoder" in message
    keyed = error.value.with_config_key({"fusion_layers": "TRAINER.SEP.FUSION_LAYERS"})
    assert str(keyed).startswith("TRAINER.SEP.FUSION_LAYERS") and offending in str(keyed)


@pytest.mark.parametrize("requested", [[1.5], [True], ["3"]])
def test_non_integer_layers_raise(requested):
    with pytest.raises(ModelOptionError, match="fusion_layers"):
        resolve_fusion_layers(requested, 12)


def test_layerwise_token_fusion_holds_one_module_per_fusion_layer():
    fusion = LayerwiseTokenFusion((3, 6, 9), width=64, token_fusion_kwargs={"hidden_dim": 32})
    assert fusion.layers == (3, 6, 9)
    assert len(fusion) == 3
    assert isinstance(fusion.for_block(6), TokenFusion)
    assert fusion.for_block(6).mlp.c_fc.out_features == 32
    assert fusion.for_block(4) is None
    assert fusion.for_block(3) is not fusion.for_block(9)
    assert "6.attn.in_proj_weight" in fusion.state_dict()
