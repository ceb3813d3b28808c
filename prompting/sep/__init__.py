"""SEP's model parts on a frozen CLIP: token fusion, token selection, prompted encoders.

Pure PyTorch on top of CLIP's own modules and the shared text encoder; nothing here imports Dassl.
"""

from .fusion_layers import (
    LayerwiseTokenFusion,
    default_fusion_layers,
    resolve_fusion_layers,
)
from .prompted_encoders import (
    SEPImageEncoder,
    SEPTextEncoder,
    VisualPrompts,
    image_batch_coupling,
)
from .token_fusion import ATTENTION_AXES, TokenFusion
from .token_selection import (
    SELECTION_MODES,
    text_representative_tokens,
    visual_representative_tokens,
)

__all__ = [
    "ATTENTION_AXES",
    "LayerwiseTokenFusion",
    "SELECTION_MODES",
    "SEPImageEncoder",
    "SEPTextEncoder",
    "TokenFusion",
    "VisualPrompts",
    "default_fusion_layers",
    "image_batch_coupling",
    "resolve_fusion_layers",
    "text_representative_tokens",
    "visual_representative_tokens",
]
