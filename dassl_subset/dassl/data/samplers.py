"""Index samplers for the data loaders (only the two CoOp-family trainers use)."""

from torch.utils.data.sampler import RandomSampler, SequentialSampler

AVAI_SAMPLERS = ["RandomSampler", "SequentialSampler"]


def build_sampler(sampler_type, cfg=None, data_source=None, batch_size=32, n_domain=0, n_ins=16):
    """``batch_size``, ``n_domain`` and ``n_ins``: accepted for upstream's domain/class samplers."""
    if sampler_type == "RandomSampler":
        return RandomSampler(data_source)
    if sampler_type == "SequentialSampler":
        return SequentialSampler(data_source)
    raise ValueError(
        f"Unknown sampler type: {sampler_type}; the built-in Dassl subset supports {AVAI_SAMPLERS} "
        "(install Dassl.pytorch for the domain/class samplers)"
    )
