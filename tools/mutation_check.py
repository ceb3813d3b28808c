"""Does the fast test suite bite? Apply deliberate mistakes to the code, one at a time, each in a
temporary copy of the tree, and run the fast tests that should catch it.

    python tools/mutation_check.py            # every mutation; exit status 1 if one survives
    python tools/mutation_check.py --list     # names only
    python tools/mutation_check.py --only gelu_for_quick_gelu eos_pooling_off_by_one

Each mutation replaces one exact snippet of one file; a snippet that is missing or not unique
is an error (the code moved: update the list), never a silent pass. A mutation is "caught" when
its tests fail; the working tree is never modified.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# With -x pytest stops at the first failure: the test most likely to fail comes first.
TOKEN_FUSION = "tests/prompting/sep/test_token_fusion.py"
TOKEN_SELECTION = "tests/prompting/sep/test_token_selection.py"
FUSION_LAYERS = "tests/prompting/sep/test_fusion_layers.py"
SEP_ORACLE = "tests/sep_trainer/test_sep_model.py"
TEXT_ENCODER = "tests/prompting/test_text_encoder.py"
HICROPL = "tests/trainers/test_hicropl.py"


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository root
    original: str
    replacement: str
    tests: tuple  # the fast tests expected to catch it


MUTATIONS = (
    Mutation(
        "gelu_for_quick_gelu",
        "prompting/sep/token_fusion.py",
        '("gelu", QuickGELU()),',
        '("gelu", nn.GELU()),',
        (TOKEN_FUSION, SEP_ORACLE),
    ),
    Mutation(
        "tfm_heads_width_over_32",
        "prompting/sep/token_fusion.py",
        "heads = max(1, width // 64)",
        "heads = max(1, width // 32)",
        (TOKEN_FUSION, SEP_ORACLE),
    ),
    Mutation(
        "tfm_key_value_not_normalised",
        "prompting/sep/token_fusion.py",
        "self._attend(self.ln_1(prompt), self.ln_1(key_value))",
        "self._attend(self.ln_1(prompt), key_value)",
        (TOKEN_FUSION, SEP_ORACLE),
    ),
    Mutation(
        "tfm_residual_from_prompt_tokens",
        "prompting/sep/token_fusion.py",
        "fused = scale_1 * representative + (1 - scale_1) * attended",
        "fused = scale_1 * prompt + (1 - scale_1) * attended",
        (TOKEN_FUSION, SEP_ORACLE),
    ),
    Mutation(
        "tfm_mlp_without_ln_2",
        "prompting/sep/token_fusion.py",
        "(1 - scale_2) * self.mlp(self.ln_2(fused))",
        "(1 - scale_2) * self.mlp(fused)",
        (TOKEN_FUSION, SEP_ORACLE),
    ),
    Mutation(
        "attention_axes_swapped",
        "prompting/sep/token_fusion.py",
        'if self.attention_axis == "reference":',
        'if self.attention_axis != "reference":',
        (TOKEN_FUSION, SEP_ORACLE),
    ),
    Mutation(
        "selection_without_squaring",
        "prompting/sep/token_selection.py",
        "scores = pretrained.float().pow(2).mean(dim=-1)",
        "scores = pretrained.float().mean(dim=-1)",
        (TOKEN_SELECTION, SEP_ORACLE),
    ),
    Mutation(
        "batch_selection_from_the_first_image",
        "prompting/sep/token_selection.py",
        "scores = scores.mean(dim=0)  # [1 + HW]",
        "scores = scores[0]  # [1 + HW]",
        (TOKEN_SELECTION, SEP_ORACLE),
    ),
    Mutation(
        "selection_may_pick_prompt_tokens",
        "prompting/sep/token_selection.py",
        "pretrained = x[:, :-n_prompts]",
        "pretrained = x",
        (TOKEN_SELECTION, SEP_ORACLE),
    ),
    Mutation(
        "text_representatives_off_by_one",
        "prompting/sep/token_selection.py",
        "return x[:, 1 + n_ctx : 1 + 2 * n_ctx]",
        "return x[:, n_ctx : 2 * n_ctx]",
        (TOKEN_SELECTION, SEP_ORACLE),
    ),
    Mutation(
        "fusion_before_the_next_block",
        "prompting/sep/fusion_layers.py",
        "key = str(index)",
        "key = str(index - 1)",
        (SEP_ORACLE, FUSION_LAYERS),
    ),
    Mutation(
        "only_the_first_fusion_layer_applied",
        "prompting/sep/fusion_layers.py",
        "return self[key] if key in self else None",
        "return self[key] if key in self and index <= 1 else None",
        (SEP_ORACLE,),
    ),
    Mutation(
        "default_fusion_layers_from_block_0",
        "prompting/sep/fusion_layers.py",
        "return tuple(range(1, depth))",
        "return tuple(range(0, depth - 1))",
        (FUSION_LAYERS, SEP_ORACLE),
    ),
    Mutation(
        "visual_prompts_before_cls",
        "prompting/image_encoder.py",
        "x = torch.cat([x, prompts], dim=1)  # [B, 1 + HW + m, Dv]",
        "x = torch.cat([prompts, x], dim=1)  # [B, 1 + HW + m, Dv]",
        (SEP_ORACLE,),
    ),
    Mutation(
        "consistency_term_always_zero",
        "prompting/prompted_clip.py",
        "F.cosine_similarity(features.float(), frozen_features.float(), dim=-1, eps=1e-7)",
        "F.cosine_similarity(features.float(), features.float(), dim=-1, eps=1e-7)",
        (SEP_ORACLE, "tests/trainers/test_kgcoop.py"),
    ),
    Mutation(
        "logit_scale_not_exponentiated",
        "prompting/prompted_clip.py",
        "self.logit_scale.exp().detach() * image_features",
        "self.logit_scale.detach() * image_features",
        (SEP_ORACLE, "tests/trainers/test_zsclip.py"),
    ),
    Mutation(
        "eos_pooling_off_by_one",
        "prompting/text_encoder.py",
        "eos_positions = tokenized_prompts.argmax(dim=-1).to(x.device)",
        "eos_positions = (tokenized_prompts.argmax(dim=-1) - 1).to(x.device)",
        (TEXT_ENCODER, SEP_ORACLE),
    ),
    Mutation(
        "visual_consistency_term_dropped",
        "trainers/sep.py",
        '"visual_consistency": consistency_loss(frozen_image, image_features),',
        '"visual_consistency": 0 * consistency_loss(frozen_image, image_features),',
        (SEP_ORACLE,),
    ),
    Mutation(
        "frozen_prototype_term_dropped",
        "trainers/sep.py",
        "            + F.cross_entropy(self.prototype_logits(frozen_image).float(), label),\n",
        ",\n",
        (SEP_ORACLE,),
    ),
    Mutation(
        "text_feature_fusion_unnormalised",
        "trainers/sep.py",
        "return normalize(prompted + self.text_features_fixed)",
        "return prompted + self.text_features_fixed",
        (SEP_ORACLE,),
    ),
    Mutation(
        "prompted_image_features_unnormalised",
        "trainers/sep.py",
        "prompted = normalize(self.prompted_image_encoder(image))",
        "prompted = self.prompted_image_encoder(image)",
        (SEP_ORACLE,),
    ),
    Mutation(
        "prototypes_unnormalised",
        "trainers/sep.py",
        "prototypes = normalize(sums / counts.unsqueeze(1))",
        "prototypes = sums / counts.unsqueeze(1)",
        (SEP_ORACLE, "tests/trainers/test_sep_prototypes.py"),
    ),
    Mutation(
        "kgcoop_guidance_dropped",
        "prompting/template_guidance.py",
        "guidance = consistency_loss(text_features, self.template_text_features)",
        "guidance = 0 * consistency_loss(text_features, self.template_text_features)",
        ("tests/trainers/test_kgcoop.py",),
    ),
    Mutation(
        "authors_vision_blocks_shifted",
        "tools/convert_authors_checkpoint.py",
        'Series("image_encoder.transformer.resblocks.{}.VPT_shallow", "visual.{}", 1, 1)',
        'Series("image_encoder.transformer.resblocks.{}.VPT_shallow", "visual.{}", 1, 0)',
        ("tests/tools/test_convert_authors_checkpoint.py",),
    ),
    Mutation(
        "numbered_folders_sorted_as_text",
        "datasets/imagenetv2.py",
        "(str(label), label, classname) for label, classname in enumerate(classnames.values())",
        "(folder, label, classname) for (label, classname), folder in "
        "zip(enumerate(classnames.values()), sorted(map(str, range(len(classnames)))))",
        ("tests/datasets/test_dataset_layouts.py",),
    ),
    Mutation(
        "hicropl_fusion_of_unnormalised_text",
        "trainers/hicropl.py",
        "return normalize(normalize(prompted) + frozen)  # [n_cls, E]",
        "return normalize(prompted + frozen)  # [n_cls, E]",
        (HICROPL,),
    ),
    Mutation(
        "hicropl_in_place_write_one_block_late",
        "prompting/cross_modal_flow.py",
        "zip(self.text.deep[k - 1 :], text[k:])",
        "zip(self.text.deep[k:], text[k:])",
        (HICROPL,),
    ),
    Mutation(
        "hicropl_visual_proxies_of_the_early_blocks",
        "prompting/cross_modal_flow.py",
        "zip(self.visual_proxies, visual[k:])",
        "zip(self.visual_proxies, visual[:k])",
        (HICROPL,),
    ),
    Mutation(
        "hicropl_authors_text_sets_not_shifted",
        "tools/convert_authors_checkpoint.py",
        'Series("prompt_learner.cross_prompts_text.{}", "text.deep.{}", 1, 0)',
        'Series("prompt_learner.cross_prompts_text.{}", "text.deep.{}", 1, 1)',
        ("tests/tools/test_convert_authors_hicropl.py",),
    ),
    Mutation(
        "openclip_text_blocks_without_causal_mask",
        "prompting/backbones/openclip.py",
        "return run_block(block, x, self.clip_model.transformer.batch_first, attn_mask=mask)",
        "return run_block(block, x, self.clip_model.transformer.batch_first)",
        ("tests/prompting/test_backbones.py",),
    ),
    Mutation(
        "openclip_blocks_fed_sequence_first",
        "prompting/backbones/openclip.py",
        "return block(x.transpose(0, 1), **kwargs).transpose(0, 1)",
        "return block(x, **kwargs)",
        ("tests/prompting/test_backbones.py",),
    ),
    Mutation(
        "prograd_step_along_unprojected_gradient",
        "trainers/prograd.py",
        "parameter.grad = projected_gradient(task, general, self.method_cfg.LAMBDA)",
        "parameter.grad = task",
        ("tests/trainers/test_prograd.py",),
    ),
    Mutation(
        "prograd_projection_along_unnormalised_general_gradient",
        "trainers/prograd.py",
        "return task_gradient - strength * along * direction",
        "return task_gradient - strength * along * general_gradient",
        ("tests/trainers/test_prograd.py",),
    ),
    Mutation(
        "tcp_class_tokens_one_block_early",
        "prompting/class_aware_prompts.py",
        "if index != self.block:",
        "if index != self.block - 1:",
        ("tests/trainers/test_tcp.py",),
    ),
    Mutation(
        "tcp_meta_net_without_activation",
        "prompting/class_aware_prompts.py",
        '("activation", QuickGELU()),',
        '("activation", nn.Identity()),',
        ("tests/trainers/test_tcp.py",),
    ),
)


def apply(mutation, root):
    """Replace the mutation's snippet under ``root``; fails if it is missing or not unique."""
    path = os.path.join(root, mutation.path)
    with open(path) as file:
        text = file.read()
    count = text.count(mutation.original)
    if count != 1:
        raise SystemExit(
            f"{mutation.name}: the snippet occurs {count} times in {mutation.path} (expected "
            f"once): {mutation.original!r}. The code changed; update tools/mutation_check.py."
        )
    with open(path, "w") as file:
        file.write(text.replace(mutation.original, mutation.replacement))


def tracked_files():
    """The tree as git sees it: tracked and untracked files, ignored ones (caches) left out."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [path for path in listing.split("\0") if path and os.path.isfile(path)]


def copy_tree(destination):
    for relpath in tracked_files():
        target = os.path.join(destination, relpath)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(REPO_ROOT, relpath), target)


def run_tests(root, tests):
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-m",
        "not slow",
        "-p",
        "no:cacheprovider",
        *tests,
    ]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    failed = [
        line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")
    ]
    errors = [
        line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("ERROR ")
    ]
    lines = result.stdout.strip().splitlines()
    summary = (failed + errors + lines[-1:] + [result.stderr.strip()[-200:]])[0]
    return result.returncode, summary


def check(mutations):
    """Each mutation in a fresh copy of the tree; returns [(mutation, caught, seconds, first
    failing test or pytest's last line)]."""
    rows = []
    for mutation in mutations:
        with tempfile.TemporaryDirectory(prefix="mutation_") as root:
            copy_tree(root)
            apply(mutation, root)
            start = time.time()
            status, summary = run_tests(root, mutation.tests)
            seconds = time.time() - start
        # pytest: 1 = tests failed, 2 = collection/import error; both mean the mistake shows
        caught = status in (1, 2)
        if status not in (0, 1, 2):
            raise SystemExit(f"{mutation.name}: pytest exited with {status}: {summary}")
        rows.append((mutation, caught, seconds, summary))
        print(f"{mutation.name}: {'caught' if caught else 'SURVIVED'} ({seconds:.0f} s)")
    return rows


def markdown_table(rows):
    lines = ["| mutation | file | result | first failing test |", "| --- | --- | --- | --- |"]
    for mutation, caught, _, summary in rows:
        result = "caught" if caught else "**survived**"
        failing = f"`{summary.split('::', 1)[-1]}`" if caught else ""
        lines.append(f"| `{mutation.name}` | `{mutation.path}` | {result} | {failing} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the mutation names and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutations")
    args = parser.parse_args(argv)
    by_name = {mutation.name: mutation for mutation in MUTATIONS}
    if args.list:
        print("\n".join(by_name))
        return 0
    unknown = sorted(set(args.only or ()) - set(by_name))
    if unknown:
        parser.error(f"unknown mutations {unknown}; --list shows them")
    selected = [by_name[name] for name in args.only] if args.only else list(MUTATIONS)
    # every snippet is checked against the working tree before anything runs
    with tempfile.TemporaryDirectory(prefix="mutation_check_") as scratch:
        for mutation in selected:
            os.makedirs(os.path.dirname(os.path.join(scratch, mutation.path)), exist_ok=True)
            shutil.copy2(
                os.path.join(REPO_ROOT, mutation.path), os.path.join(scratch, mutation.path)
            )
            apply(mutation, scratch)
            shutil.copy2(
                os.path.join(REPO_ROOT, mutation.path), os.path.join(scratch, mutation.path)
            )
    rows = check(selected)
    print()
    print(markdown_table(rows))
    survived = [mutation.name for mutation, caught, _, _ in rows if not caught]
    print(f"\n{len(rows) - len(survived)} of {len(rows)} mutations caught")
    if survived:
        print(f"Survived: {', '.join(survived)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
