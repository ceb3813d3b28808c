#!/bin/bash
# Offline demo on the generated world (tools/world): pretrains the world CLIP once (a few
# minutes on 2 CPU cores; later runs reuse it from ~/.cache), writes the world datasets to
# world_data/, runs base-to-new training and new-class evaluation of every method on one of them
# through the same scripts used on real data, and prints the Base / New / HM table.
# Usage: bash scripts/demo.sh   (DATA, OUTPUT, DATASETS, SEEDS and PYTHON may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
export DATA="${DATA:-world_data}" OUTPUT="${OUTPUT:-output/demo}"
export DATASETS="${DATASETS:-world_tint}" SEEDS="${SEEDS:-1}"
exec bash scripts/world_benchmark.sh
