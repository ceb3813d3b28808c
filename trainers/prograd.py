"""ProGrad (Zhu et al., ICCV 2023): CoOp trained with the prompt-aligned gradient.

The task gradient (cross-entropy) loses the component that conflicts with the gradient of the
distillation from zero-shot CLIP, before every optimiser step (see docs/methods/prograd.md).
"""

import torch
import torch.nn.functional as F
from dassl.engine import TRAINER_REGISTRY
from dassl.metrics import compute_accuracy

from prompting.context_prompt_model import ContextPromptCLIP
from prompting.prompt_learner import ContextPromptLearner
from prompting.templates import check_template_table, hand_crafted_template
from prompting.text_encoder import (
    register_frozen_text_features,
    tokenize,
)
from run.user_errors import ConfigError, ModelOptionError

from .prompt_trainer import (
    PromptTrainer,
    check_finite_loss,
    context_prompt_learner,
    context_prompt_node,
)


def distillation_loss(logits, teacher_logits, temperature):
    """T^2 * mean over images of the cross-entropy between softened teacher and student
    predictions: the KL divergence from the teacher plus the teacher's entropy, which has no
    gradient (the authors' "KL loss", whose value this is)."""
    teacher = F.softmax(teacher_logits.float() / temperature, dim=-1)
    student = F.log_softmax(logits.float() / temperature, dim=-1)
    return -(teacher * student).sum(dim=-1).mean() * temperature**2


def projected_gradient(task_gradient, general_gradient, strength):
    """The task gradient without ``strength`` times its component along the general direction,
    when the two point apart (negative dot product); unchanged otherwise (and when the general
    gradient is zero)."""
    general_norm = torch.linalg.norm(general_gradient)
    if general_norm == 0:
        return task_gradient
    direction = general_gradient / general_norm
    along = torch.dot(task_gradient.flatten(), direction.flatten())
    if along >= 0:
        return task_gradient
    return task_gradient - strength * along * direction


def template_context(clip_model, template, n_ctx):
    """ProGrad's context start: the template's phrase before ``" {}."`` in the last context
    slots (as many as it has words), zero vectors in front; and the prompt's placeholder."""
    if not template.endswith(" {}."):
        raise ModelOptionError(
            f'The template "{template}" does not end with " {{}}.", so it has no phrase to start '
            "the context from: set TRAINER.PROGRAD.INIT_FROM_TEMPLATE False or another TEMPLATES"
        )
    phrase = template[: -len(" {}.")].replace("_", " ")
    n_words = len(phrase.split(" "))
    if n_words > n_ctx:
        raise ModelOptionError(
            f'The template phrase "{phrase}" has {n_words} words, more than TRAINER.PROGRAD.N_CTX '
            f"= {n_ctx}: raise N_CTX to at least {n_words}"
        )
    embedding_table = clip_model.token_embedding
    width = clip_model.ln_final.weight.shape[0]
    with torch.no_grad():
        embedding = embedding_table(tokenize([phrase], embedding_table.weight.device))
    vectors = torch.zeros(n_ctx, width, dtype=embedding_table.weight.dtype)  # [n_ctx, D]
    # the first n_words tokens: fewer than the phrase's when it holds a comma; the prompt's
    # placeholder keeps the whole phrase, so its remaining tokens follow the context as words
    vectors[n_ctx - n_words :] = embedding[0, 1 : 1 + n_words].cpu()
    placeholder = " ".join(["X"] * (n_ctx - n_words) + [phrase])
    return vectors, placeholder


class ProGradModel(ContextPromptCLIP):
    """CoOp's model, plus zero-shot CLIP's logits from the hand-crafted template's features.

    The zero-shot text features come from the same frozen CLIP, once, at build time
    (non-persistent: rebuilt for the classes evaluated).
    """

    def __init__(
        self, clip_model, prompt_learner, template_prompts, temperature, checkpoint_text_blocks
    ):
        super().__init__(clip_model, prompt_learner, checkpoint_text_blocks)
        self.temperature = temperature
        register_frozen_text_features(
            self, "zero_shot_text_features", clip_model, template_prompts, "Zero-shot prompts"
        )

    def training_loss(self, image, label):
        """Logits and the two losses ProGrad's step combines (not by summing them)."""
        image_features = self.image_features(image)  # [B, E]
        logits = self.logits(image_features, self.compute_text_features())
        with torch.no_grad():
            zero_shot_logits = self.logits(image_features, self.zero_shot_text_features)
        return logits, {
            "ce": F.cross_entropy(logits, label),
            "kl": distillation_loss(logits, zero_shot_logits, self.temperature),
        }


@TRAINER_REGISTRY.register()
class ProGrad(PromptTrainer):
    METHOD_CFG = "PROGRAD"
    PUBLISHED_CONFIG = "vit_b16_ep100.yaml"
    AUTHORS_CHECKPOINT_LAYOUT = "context_only"
    LOGGED_LOSS_TERMS = ("kl",)  # "loss" is the task loss it descends, projected
    TRAINING_STEP_COUPLING = (
        "the task gradient is projected against the general gradient of the whole batch "
        "(both summed over processes before the projection)"
    )

    @classmethod
    def config_node(cls):
        node = context_prompt_node(super().config_node(), n_ctx=16)
        node.INIT_FROM_TEMPLATE = True  # context starts as the template's phrase (zeros in front)
        node.TEMPLATES = "prograd"  # hand-crafted template table: coop, kgcoop, prograd, ...
        node.LAMBDA = 1.0  # how much of the conflicting component the projection removes
        node.T = 1.0  # distillation temperature
        return node

    def check_cfg(self, cfg):
        super().check_cfg(cfg)
        node = cfg.TRAINER.PROGRAD
        check_template_table(node.TEMPLATES, "TRAINER.PROGRAD.TEMPLATES")
        if not 0 <= node.LAMBDA <= 1:
            raise ConfigError(f"TRAINER.PROGRAD.LAMBDA must be in [0, 1], got {node.LAMBDA}")
        if node.T <= 0:
            raise ConfigError(f"TRAINER.PROGRAD.T must be > 0, got {node.T}")
        if node.INIT_FROM_TEMPLATE and (node.CTX_INIT or node.CSC):
            raise ConfigError(
                "TRAINER.PROGRAD.INIT_FROM_TEMPLATE starts one shared context from the template: "
                "set it False to use TRAINER.PROGRAD.CTX_INIT or CSC True"
            )

    def build_custom_clip(self, classnames, clip_model):
        node = self.method_cfg
        template = hand_crafted_template(self.cfg.DATASET.NAME, node.TEMPLATES)
        if node.INIT_FROM_TEMPLATE:
            learner = ContextPromptLearner(
                classnames,
                clip_model,
                n_ctx=node.N_CTX,
                class_token_position=node.CLASS_TOKEN_POSITION,
                context=template_context(clip_model, template, node.N_CTX),
            )
        else:
            learner = context_prompt_learner(node, classnames, clip_model)
        prompts = [template.format(name.replace("_", " ")) for name in classnames]
        return ProGradModel(clip_model, learner, prompts, node.T, node.CHECKPOINT_TEXT_BLOCKS)

    def forward_backward(self, batch):
        image, label = self.parse_batch_train(batch)
        with self.autocast():
            logits, terms = self.model.training_loss(image, label)
        task_loss, batch_task_loss = self.loss_of_batch(terms["ce"], len(label))
        general_loss, batch_general_loss = self.loss_of_batch(terms["kl"], len(label))
        where = f"at epoch {self.epoch + 1}, batch {self.batch_idx + 1}"
        check_finite_loss(batch_task_loss, where)
        check_finite_loss(batch_general_loss, where)
        self.prograd_step(task_loss, general_loss)
        if (self.batch_idx + 1) == self.num_batches:
            self.update_lr()
        return {
            "loss": batch_task_loss.item(),  # the loss descended (along the projected gradient)
            "kl": batch_general_loss.item(),
            "acc": compute_accuracy(logits, label)[0].item(),
        }

    def prograd_step(self, task_loss, general_loss):
        """One step along the task gradient projected against the general gradient, each the
        whole batch's (summed over processes) and taken per parameter tensor."""
        learnable = self.model.learnable
        assert learnable is not None  # ProGrad's model always learns its context
        parameters = list(learnable.parameters())

        def backward(loss, **kwargs):
            self.optim.zero_grad()
            (loss if self.scaler is None else self.scaler.scale(loss)).backward(**kwargs)
            self.synchronize_gradients()
            return [
                torch.zeros_like(p) if p.grad is None else p.grad.detach().clone()
                for p in parameters
            ]

        general_gradients = backward(general_loss, retain_graph=True)
        task_gradients = backward(task_loss)
        for parameter, task, general in zip(parameters, task_gradients, general_gradients):
            parameter.grad = projected_gradient(task, general, self.method_cfg.LAMBDA)
        if self.scaler is None:
            self.optim.step()
        else:  # the projection commutes with the loss scale; the scaler unscales and checks
            self.scaler.step(self.optim)
            self.scaler.update()
