"""A generated, captioned image world: coloured shapes that CLIP-style pretraining can name."""
