#!/bin/bash
# Offline demo on the generated world (tools/world): expands the world CLIP the repository
# ships into ~/.cache (no pretraining; later runs reuse it), writes the world datasets to
# world_data/, runs base-to-new training and new-class evaluation of every method on one of them
# through the same scripts used on real data, and prints the Base / New / HM table with its
# chance level and the worth of one test image.
# Usage: bash scripts/demo.sh   (DATA, OUTPUT, DATASETS, SEEDS and PYTHON may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
export DATA="${DATA:-world_data}" OUTPUT="${OUTPUT:-output/demo}"
export DATASETS="${DATASETS:-world_tint}" SEEDS="${SEEDS:-1}"
exec bash scripts/world_benchmark.sh
