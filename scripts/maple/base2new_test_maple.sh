#!/bin/bash
# MaPLe's own name (muzairkhattak/multimodal-prompt-learning) for scripts/maple/base2new_test.sh.
# Usage: DATA=/path/to/datasets bash scripts/maple/base2new_test_maple.sh DATASET SEED [yacs options]
exec bash "$(dirname "$0")/base2new_test.sh" "$@"
