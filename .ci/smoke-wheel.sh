#!/usr/bin/env bash
# The installed wheel, used from a folder outside the clone: the shipped demo models, the
# restoration networks' weights and the web studio must all come with the package.
set -euo pipefail
singan-studio sample hubble -n 1 --seed 0 -o samples --quiet
test -s samples/hubble/sample_0000.png
python - <<'PY'
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
Image.fromarray((rng.random((24, 24, 3)) * 255).astype(np.uint8)).save("small.png")
PY
for method in idbp mzsr; do
    singan-studio restore small.png --task sr --factor 2 --method "$method" --iterations 2 -o "sr_$method.png" --quiet
    test -s "sr_$method.png"
done
port=$(python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
singan-studio serve --port "$port" --workdir web > serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 120); do
    if curl -fs "http://127.0.0.1:$port/" > /dev/null; then echo "wheel smoke test passed"; exit 0; fi
    sleep 1
done
cat serve.log
echo "serve did not answer on 127.0.0.1:$port" >&2
exit 1
