#!/usr/bin/env bash
# The accelerator checks, in under 5 minutes on a machine with a GPU (run from the repository root):
#   1. the meta-gradient on the device equals the per-task reference loop and the CPU (float64);
#   2. `bench maml` on the device: the picked path's ms, the reference loop's ms and their ratio;
#   3. a 2-minute Omniglot 5-way 1-shot training on the device and its accuracy on 600 test tasks
#      (glyphs when Omniglot is not found: set INNERLOOP_DATA).
# Writes everything under ${OUT:-device-check}/.
set -euo pipefail
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-device-check}
mkdir -p "$OUT"
python - <<PY
import torch
print("torch", torch.__version__, "cuda available:", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device:", torch.cuda.get_device_name(0))
PY
echo "== 1. meta-gradients on $DEVICE"
python scripts/device_check.py --device "$DEVICE" | tee "$OUT/gradients.txt"
echo "== 2. bench maml on $DEVICE"
python -m engine bench maml --device "$DEVICE" --repeats 3 --json > "$OUT/bench-maml.json"
python - "$OUT/bench-maml.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["maml"]:
    print(f"{r['case']:<42} {r['order']:>6}-order picked {r['chosen']:>9} "
          f"reference {r['reference_loop_ms']:8.1f} ms  x{r['speedup']:.2f}")
PY
echo "== 3. 2-minute training on $DEVICE"
DATASET=omniglot
if [ -z "${INNERLOOP_DATA:-}" ] && [ ! -d ../shared/omniglot ]; then DATASET=glyphs; fi
rm -rf "$OUT/run"
python -m engine train --dataset "$DATASET" --device "$DEVICE" --minutes 2 --val-every 0 --out "$OUT/run" --quiet
python -m engine eval "$OUT/run" --tasks 600 --device "$DEVICE" --json > "$OUT/eval.json"
python - "$OUT/eval.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); last = d["steps"][-1]
print(f"{d['dataset']}/{d['protocol']} {d['ways']}-way {d['shots']}-shot after 2 minutes (iteration {d['iteration']}): "
      f"{last['accuracy'] * 100:.2f} ± {last['accuracy_ci95'] * 100:.2f}% on {d['tasks']} test tasks")
PY
