#!/usr/bin/env bash
# The GPU benchmark: CLIP ViT-B/16 shapes (random weights, nothing downloaded), 100 and 1000
# classes, batch 32 and 128, PREC fp16 and amp; every method, SEP's variants and the data loader.
# Planned to finish within about 8 minutes on one H100 (time limits 270 + 150 + 50 s), 3 more
# minutes for the distributed scaling rows (1 and 2 GPUs, 90 s each); the
# JSON files are rewritten after every row, so a part that runs out of time still leaves its rows.
#
#   benchmarks/run_gpu.sh OUT_DIR          (PYTHON=/path/to/python to choose the interpreter)
#
# Writes OUT_DIR/{vit_b16_fp16,vit_b16_amp,data_loading,distributed_{1,2}gpu}.{json,txt} and
# OUT_DIR/environment.txt.
set -uo pipefail

OUT=${1:?usage: benchmarks/run_gpu.sh OUT_DIR}
PYTHON=${PYTHON:-python}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

{
    date
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
    "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
    nproc
} > "$OUT/environment.txt" 2>&1

COMMON=(--arch vit_b16 --device cuda --classes 100 1000 --batch-size 32 128
        --steps 8 --warmup 3 --eval-steps 5)
status=0

# fp16 (the configs' PREC): all methods, all SEP variants (fp32 and amp included), breakdown.
timeout 270 "$PYTHON" benchmarks/bench_trainers.py "${COMMON[@]}" --precision fp16 \
    --variants all --breakdown --json "$OUT/vit_b16_fp16.json" 2>&1 | tee "$OUT/vit_b16_fp16.txt"
status=$((status | PIPESTATUS[0]))

# amp: all methods, and the SEP variants whose effect may differ under autocast.
timeout 150 "$PYTHON" benchmarks/bench_trainers.py "${COMMON[@]}" --precision amp \
    --variants second_clip explicit_attention checkpoint_text full_text_length \
    --no-attention-check --json "$OUT/vit_b16_amp.json" 2>&1 | tee "$OUT/vit_b16_amp.txt"
status=$((status | PIPESTATUS[0]))

# The training loader (SEP's batch-32 config) on generated JPEGs, with the configs' 8 workers.
timeout 50 "$PYTHON" benchmarks/bench_data_loading.py --images 768 --batch-size 32 \
    --workers 0 4 8 --json "$OUT/data_loading.json" 2>&1 | tee "$OUT/data_loading.txt"
status=$((status | PIPESTATUS[0]))

# Distributed scaling (torchrun, nccl): SEP and CoOp steps of one global batch on 1 and on 2 GPUs;
# scaling = step_ms on 1 GPU / step_ms on 2 GPUs. The 2-GPU row needs a machine with 2 GPUs.
GPUS=$(nvidia-smi -L 2>/dev/null | wc -l)
for n in 1 2; do
    if [ "$n" -gt "$GPUS" ]; then
        echo "Skip the $n-GPU scaling row: $GPUS GPU(s) visible"
        continue
    fi
    timeout 90 "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$n" \
        benchmarks/bench_distributed.py --arch vit_b16 --methods SEP CoOp --classes 100 \
        --global-batch 32 128 --precision fp16 --json "$OUT/distributed_${n}gpu.json" \
        2>&1 | tee "$OUT/distributed_${n}gpu.txt"
    status=$((status | PIPESTATUS[0]))
done

echo "Results in $OUT (exit status $status; 124 = a part ran out of its time)"
exit "$status"
