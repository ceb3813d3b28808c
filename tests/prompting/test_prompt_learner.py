import pytest
import torch

from prompting.prompt_learner import ContextPromptLearner, initial_context
from prompting.text_encoder import tokenize

CLASSNAMES = ["red_circle", "sea horse", "dalmatian"]


def token_embeddings(clip_model, text):
    with torch.no_grad():
        return clip_model.token_embedding(tokenize([text]))[0]  # [77, D]


def test_context_from_a_phrase_is_that_phrases_token_embeddings(tiny_clip):
    vectors, placeholder = initial_context(tiny_clip, n_ctx=16, ctx_init="a_photo of a")
    assert placeholder == "a photo of a"
    assert torch.equal(vectors, token_embeddings(tiny_clip, "a photo of a")[1:5])

    learner = ContextPromptLearner(CLASSNAMES, tiny_clip, n_ctx=16, ctx_init="a photo of a")
    assert learner.n_ctx == 4
    # the assembled prompt is exactly the embedding of the plain sentence
    prompts = learner()
    for i, name in enumerate(CLASSNAMES):
        expected = token_embeddings(tiny_clip, f"a photo of a {name.replace('_', ' ')}.")
        assert torch.equal(prompts[i], expected)


def test_random_context_is_small_gaussian_noise(tiny_clip):
    torch.manual_seed(0)
    learner = ContextPromptLearner(CLASSNAMES, tiny_clip, n_ctx=16)
    width = tiny_clip.ln_final.weight.shape[0]
    assert learner.ctx.shape == (16, width)
    assert 0.015 < learner.ctx.std().item() < 0.025
    assert learner.context_placeholder == " ".join(["X"] * 16)


def test_class_specific_context_has_one_set_per_class(tiny_clip):
    learner = ContextPromptLearner(
        CLASSNAMES, tiny_clip, n_ctx=4, ctx_init="a photo of a", class_specific=True
    )
    assert learner.ctx.shape == (len(CLASSNAMES), 4, tiny_clip.ln_final.weight.shape[0])
    assert learner().shape == (len(CLASSNAMES), 77, tiny_clip.ln_final.weight.shape[0])


@pytest.mark.parametrize("position", ["end", "middle", "front"])
def test_class_token_position_puts_the_name_tokens_where_expected(tiny_clip, position):
    torch.manual_seed(0)
    n_ctx = 4
    learner = ContextPromptLearner(
        CLASSNAMES, tiny_clip, n_ctx=n_ctx, class_token_position=position
    )
    ctx = learner.ctx.detach()
    half = n_ctx // 2
    prompts = learner().detach()
    for i, name in enumerate(CLASSNAMES):
        name = name.replace("_", " ")
        sentence = token_embeddings(tiny_clip, f"{name}.")  # [SOS] name . [EOS] pad...
        name_len = len(tokenize([name])[0].nonzero()) - 2
        assert learner.name_lengths[i] == name_len
        sos, name_tokens, rest = sentence[:1], sentence[1 : 1 + name_len], sentence[1 + name_len :]
        parts = {
            "end": [sos, ctx, name_tokens, rest],
            "middle": [sos, ctx[:half], name_tokens, ctx[half:], rest],
            "front": [sos, name_tokens, ctx, rest],
        }[position]
        expected = torch.cat(parts)[:77]
        assert torch.equal(prompts[i], expected), name
    # the [EOS] token the text encoder pools at is the same in every arrangement
    assert torch.equal(
        learner.tokenized_prompts.argmax(-1),
        torch.tensor([n_ctx + learner.name_lengths[i] + 2 for i in range(3)]),
    )


def test_unknown_class_token_position_is_refused(tiny_clip):
    with pytest.raises(ValueError, match="CLASS_TOKEN_POSITION"):
        ContextPromptLearner(CLASSNAMES, tiny_clip, n_ctx=4, class_token_position="start")


def test_only_the_context_is_saved(tiny_clip):
    learner = ContextPromptLearner(CLASSNAMES, tiny_clip, n_ctx=4)
    assert set(learner.state_dict()) == {"ctx"}
    assert [name for name, _ in learner.named_parameters()] == ["ctx"]
