"""PyTorch cross-check of a short budgeted run: ../shared/bench/torch_cifar_train.py on the first N
training images with a per-epoch cosine schedule (this repo's --schedule cosine), tested on all
10,000 test images. It answers whether a gap seen in our runs (SCConv-ResNet-20 behind ResNet-20
after a few epochs) is the module's or our port's.

    /usr/bin/python3 scripts/torch_subset_train.py 10000 --data DIR_OR_TAR_GZ --depth 20 \
        --conv scconv --epochs 4 --threads 1 > torch_scconv.jsonl

Compare with `npm start` (same subset, epochs and schedule; its runs/start/*/metrics.jsonl).
The training script defaults to ../shared/bench/ (set SCCONV_TORCH_TRAIN to its path).
"""
import os
import sys

import torch

script = os.environ.get("SCCONV_TORCH_TRAIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench", "torch_cifar_train.py")
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
import torch_cifar_train as t  # noqa: E402

n = int(sys.argv.pop(1))
epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 3
load = t.load


def first_n(path):
    (xtr, ytr), test = load(path)
    return (xtr[:n], ytr[:n]), test


t.load = first_n
# The script builds MultiStepLR(opt, milestones, 0.1); use cosine to zero over the run instead.
t.torch.optim.lr_scheduler.MultiStepLR = lambda opt, milestones, gamma: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
t.main()
