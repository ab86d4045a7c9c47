#!/bin/bash
# Parity check on all 50,000 images: ours vs PyTorch 1.13, ResNet-20, 10 epochs, the converge recipe with weight decay on every weight (PyTorch's default), seed 0.
cd /work/main
D=/work/shared/data/cifar-10-binary-jpeg75.tar.gz
date -u +"start ours %FT%TZ" > /work/runs/xcheck/times.txt
npm run train -- --config configs/converge.json --epochs 10 --decay all --conv standard --seed 0 --out /work/runs/xcheck/ours-resnet20-e10 --data $D > /work/runs/xcheck/ours.log 2>&1
date -u +"start pytorch %FT%TZ" >> /work/runs/xcheck/times.txt
/usr/bin/python3 scripts/torch_subset_train.py 50000 --data $D --depth 20 --conv standard --epochs 10 --lr 0.1 --threads 2 --seed 0 > /work/runs/xcheck/torch_standard_e10.jsonl 2> /work/runs/xcheck/torch.err
date -u +"end %FT%TZ" >> /work/runs/xcheck/times.txt
