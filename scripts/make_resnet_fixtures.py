"""Write test/fixtures/resnet_interop.json: whole CIFAR ResNets built in PyTorch (scripts/torch_resnet.py)
with their state dicts and the logits of a fixed input, for test/interop/torch_model.test.ts.

    SCCONV_REFERENCE=path/to/scconv_reference.py /usr/bin/python3 scripts/make_resnet_fixtures.py

Small models, where the name mapping is the same as for ResNet-20: depth 8 (one block per stage,
and depth 14 once, where the bench names' flat block index needs n = 2), width 4 for plain
ResNets and 8 for SCConv (at C = 4 the CRU's squeezed upper part has 1 channel, which the GWC's
2 groups cannot split, in PyTorch too). Input 2x3x8x8. Evaluation mode, so BatchNorm uses its
running statistics; these, the BN affine and the GN affine are drawn at random so that every
entry matters, and num_batches_tracked is set to 7 (it must be ignored on the way in). Seeds are
chosen so no SRU importance value sits within 1e-5 of the threshold (as in make_fixtures.py).
"""
import json
import os
import sys

import torch
import torch.nn as nn

from torch_resnet import ROOT, build, load_reference, pack

OUT = os.path.join(ROOT, 'test', 'fixtures', 'resnet_interop.json')
MIN_MARGIN = 1e-5

CONFIGS = [
    dict(names='akamaster', depth=8, conv='standard', placement='second', shortcut='A', width=4),
    dict(names='bench', depth=8, conv='standard', placement='second', shortcut='B', width=4),
    dict(names='bench', depth=14, conv='standard', placement='second', shortcut='B', width=4),
    dict(names='akamaster', depth=8, conv='scconv', placement='second', shortcut='A', width=8),
    dict(names='bench', depth=8, conv='scconv', placement='second', shortcut='B', width=8),
    dict(names='akamaster', depth=8, conv='scconv', placement='both', shortcut='B', width=8),
    dict(names='bench', depth=8, conv='scconv', placement='both', shortcut='A', width=8),
]


def randomize(m):
    """Non-trivial norm affine and running statistics, so a mix-up of any two entries shows."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm2d, nn.GroupNorm)):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.3, 0.3)
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.3, 0.3)
                mod.running_var.uniform_(0.5, 2.0)
                mod.num_batches_tracked.fill_(7)


def sru_margin(m, x):
    """min |w - t| over every SRU's importance map on this forward pass."""
    ref = load_reference()
    margins = []
    hooks = [mod.register_forward_pre_hook(lambda mod, inp: margins.append((mod.weights(inp[0])[0] - mod.t).abs().min().item()))
             for mod in m.modules() if isinstance(mod, ref.SRU)]
    with torch.no_grad():
        y = m(x)
    for h in hooks:
        h.remove()
    return min(margins, default=None), y


def make(config, seed):
    torch.manual_seed(seed)
    m = build(**config)
    randomize(m)
    m.eval()
    x = torch.randn(2, 3, 8, 8)
    margin, y = sru_margin(m, x)
    return m, x, y, margin


def main():
    torch.set_num_threads(1)  # the same sums on every run, so a regenerated file only changes when something did
    fixtures = []
    for i, config in enumerate(CONFIGS):
        seed = i
        m, x, y, margin = make(config, seed)
        while margin is not None and margin < MIN_MARGIN:
            seed += 1000
            m, x, y, margin = make(config, seed)
        name = '_'.join(f'{k}={v}' for k, v in config.items())
        fixtures.append({'name': name, 'config': config, 'seed': seed, 'margin': margin,
                         'state_dict': {k: pack(v) for k, v in m.state_dict().items()}, 'input': pack(x), 'logits': pack(y)})
        print(f'{name}: seed {seed}, SRU margin {margin}, {len(m.state_dict())} entries', file=sys.stderr)
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({'generator': 'scripts/make_resnet_fixtures.py', 'torch': torch.__version__, 'fixtures': fixtures}, f,
                  separators=(',', ':'))
    os.replace(tmp, OUT)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)', file=sys.stderr)


if __name__ == '__main__':
    main()
