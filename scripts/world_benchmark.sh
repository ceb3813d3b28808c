#!/bin/bash
# Base-to-new benchmark on the generated world: every method that has a
# configs/trainers/<TRAINER>/world.yaml, on every world dataset (configs/datasets/world_*.yaml),
# with seeds 1 2 3, through each method's own scripts/<method>/base2new_{train,test}.sh; then the
# Base / New / HM table (also written as markdown) and the HM plot.
# Usage: bash scripts/world_benchmark.sh
# Environment: DATA (default world_data), OUTPUT (default output/world), SEEDS (default "1 2 3"),
# DATASETS (default: all world datasets), METHODS (default: all with a world config, e.g.
# "SEP CoOp"), PYTHON (default python). Finished runs are skipped, so a re-run only adds the
# missing ones.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export DATA="${DATA:-world_data}" OUTPUT="${OUTPUT:-output/world}" PYTHON SHOTS=16
read -r -a seeds <<< "${SEEDS:-1 2 3}"
read -r -a datasets <<< "${DATASETS:-$(cd configs/datasets && ls world_*.yaml | sed 's/\.yaml$//')}"
read -r -a trainers <<< "${METHODS:-$(ls configs/trainers/*/world.yaml | cut -d/ -f3)}"

"$PYTHON" tools/pretrain_world_clip.py  # once per machine and code version, then reused
"$PYTHON" tools/make_world_data.py --root "$DATA"

for trainer in "${trainers[@]}"; do
    # the method's script folder is the one whose base2new_train.sh sets TRAINER=<trainer>
    scripts=$(grep -lx "TRAINER=$trainer" scripts/*/base2new_train.sh | xargs dirname)
    if [ ! -f "configs/trainers/$trainer/world.yaml" ] || [ -z "$scripts" ]; then
        echo "No world config or no base2new scripts for $trainer" >&2
        exit 2
    fi
    for dataset in "${datasets[@]}"; do
        for seed in "${seeds[@]}"; do
            bash "$scripts/base2new_train.sh" "$dataset" "$seed"
            bash "$scripts/base2new_test.sh" "$dataset" "$seed"
        done
    done
done

table=(--datasets "${datasets[@]}" --seeds "${seeds[@]}")
"$PYTHON" tools/compare_results.py "$OUTPUT" "${table[@]}" --out "$OUTPUT/world_table.md"
"$PYTHON" tools/compare_results.py "$OUTPUT" "${table[@]}" --plot "$OUTPUT/world_hm.png"
