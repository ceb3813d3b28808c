#!/bin/bash
# Base-to-new benchmark on the generated world: every method that has a
# configs/trainers/<TRAINER>/world.yaml, on every world dataset (configs/datasets/world_*.yaml),
# with seeds 1 2 3, through each method's own scripts/<method>/base2new_{train,test}.sh; then the
# Base / New / HM table, mean ± population sd over seeds (written as markdown and CSV, printed with
# the chance level and the worth of one test image), and the HM plot.
# Usage: bash scripts/world_benchmark.sh
# Environment: DATA (default world_data), OUTPUT (default output/world), SEEDS (default "1 2 3"),
# DATASETS (default: all world datasets), METHODS (default: all with a world config, e.g.
# "SEP CoOp"), JOBS (runs side by side, default 2: one per core), PYTHON (default
# python), PRETRAIN_SEED (default: the shipped world CLIP; another seed pretrains that CLIP once,
# about 9 minutes, and the default OUTPUT becomes output/world_pretrain_seed<N>, since one table
# never mixes CLIPs). Finished runs are skipped, so a re-run only adds the missing ones.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
clip_args=() default_output=output/world
if [ -n "${PRETRAIN_SEED:-}" ]; then
    clip_args=(--seed "$PRETRAIN_SEED") default_output="output/world_pretrain_seed$PRETRAIN_SEED"
fi
export DATA="${DATA:-world_data}" OUTPUT="${OUTPUT:-$default_output}" PYTHON SHOTS=16
# The models are tiny: one thread per run, and runs side by side, use the cores best (two
# threads of one run mostly wait for each other on a busy machine).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
JOBS="${JOBS:-2}"
read -r -a seeds <<< "${SEEDS:-1 2 3}"
read -r -a datasets <<< "${DATASETS:-$(cd configs/datasets && ls world_*.yaml | sed 's/\.yaml$//' | tr '\n' ' ')}"
read -r -a trainers <<< "${METHODS:-$(ls configs/trainers/*/world.yaml | cut -d/ -f3 | tr '\n' ' ')}"

# the shipped CLIP expanded into ~/.cache once (or the seed's, pretrained once); the world
# configs name the link this updates
"$PYTHON" tools/pretrain_world_clip.py "${clip_args[@]+"${clip_args[@]}"}"
"$PYTHON" tools/make_world_data.py --root "$DATA"

script_dirs=()
for trainer in "${trainers[@]}"; do
    # the method's script folder is the one whose base2new_train.sh sets TRAINER=<trainer>
    scripts=$(grep -lx "TRAINER=$trainer" scripts/*/base2new_train.sh | xargs -r dirname)
    if [ ! -f "configs/trainers/$trainer/world.yaml" ] || [ -z "$scripts" ]; then
        echo "Error: No configs/trainers/$trainer/world.yaml or no base2new scripts for $trainer" >&2
        exit 2
    fi
    script_dirs+=("$scripts")
done

# One method on one dataset, every seed; such streams run side by side.
run_stream() {
    local scripts="$1" dataset="$2" seed
    for seed in "${seeds[@]}"; do
        # (set -e does not apply here: the caller tests the status)
        bash "$scripts/base2new_train.sh" "$dataset" "$seed" || return 1
        bash "$scripts/base2new_test.sh" "$dataset" "$seed" || return 1
    done
}

running() {  # how many of the streams started so far are still running
    local count=0 pid
    for pid in "${pids[@]+"${pids[@]}"}"; do
        if kill -0 "$pid" 2> /dev/null; then count=$((count + 1)); fi
    done
    echo "$count"
}

mkdir -p "$OUTPUT/logs"
rm -f "$OUTPUT"/logs/*.failed
pids=()
for dataset in "${datasets[@]}"; do
    for scripts in "${script_dirs[@]}"; do
        while [ "$(running)" -ge "$JOBS" ]; do sleep 1; done
        log="$OUTPUT/logs/${dataset}_$(basename "$scripts").log"
        echo "$dataset, $(basename "$scripts"): seeds ${seeds[*]} (log: $log)"
        { run_stream "$scripts" "$dataset" || touch "${log%.log}.failed"; } > "$log" 2>&1 &
        pids+=("$!")
    done
done
wait
if compgen -G "$OUTPUT/logs/*.failed" > /dev/null; then
    for failed in "$OUTPUT"/logs/*.failed; do
        echo "Error: Failed: see ${failed%.failed}.log" >&2
    done
    exit 1
fi

table=(--datasets "${datasets[@]}" --seeds "${seeds[@]}")
# mean ± sd over seeds (population: the family's convention) (a spread needs two seeds or more)
if [ "${#seeds[@]}" -ge 2 ]; then table+=(--spread); fi
"$PYTHON" tools/compare_results.py "$OUTPUT" "${table[@]}" --out "$OUTPUT/world_table.md"
# what the numbers can mean: chance, and how much one test image moves a split's accuracy
{ echo; "$PYTHON" tools/make_world_data.py --describe; } >> "$OUTPUT/world_table.md"
cat "$OUTPUT/world_table.md"
"$PYTHON" tools/compare_results.py "$OUTPUT" "${table[@]}" --out "$OUTPUT/world_table.csv"
"$PYTHON" tools/compare_results.py "$OUTPUT" "${table[@]}" --plot "$OUTPUT/world_hm.png"
