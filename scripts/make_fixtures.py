"""Write the golden fixtures that test/layers/parity.test.ts compares the TypeScript SCConv against.

Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 scripts/make_fixtures.py [path/to/scconv_reference.py]
The reference defaults to $SCCONV_REFERENCE, else ../shared/reference/scconv_reference.py (imported by path).

Output: test/fixtures/scconv_parity.json, a list of
    {name, config, seed, margin, state_dict: {name: {shape, data}}, input: {shape, data}, output: {...}}
in PyTorch's NCHW layout and parameter names. `data` is base64 of little-endian float32, so
every value round-trips exactly and the file stays small. `margin` is min |w - t| over the
SRU's importance map: seeds are chosen so no element sits within 2e-6 of the threshold, where
float rounding differences between frameworks could flip a gate. (w = sigmoid(GN(x)·γ/Σγ)
clusters within about ±1/C of 0.5, so a wider margin would need very many seeds.)
"""
import json
import os
import sys

import torch

from torch_resnet import load_reference, pack

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = sys.argv[1] if len(sys.argv) > 1 else None  # None: $SCCONV_REFERENCE or ../shared/reference (torch_resnet.py)
OUT = os.path.join(ROOT, 'test', 'fixtures', 'scconv_parity.json')
SIZE, MIN_MARGIN = 6, 2e-6

# The spread: 4 gate x fusion combinations, C 16/32/64, alpha 0.25/0.5/0.75, GN groups 1/4/16,
# plus non-default threshold, squeeze ratio, GWC groups and kernel size.
CONFIGS = [
    dict(channels=16, group_num=4, alpha=0.5, gate='soft', fusion='pairwise'),
    dict(channels=16, group_num=1, alpha=0.25, gate='hard', fusion='pairwise'),
    dict(channels=16, group_num=16, alpha=0.75, gate='soft', fusion='global'),
    dict(channels=16, group_num=4, alpha=0.5, gate='hard', fusion='global', gate_threshold=0.51),
    dict(channels=32, group_num=16, alpha=0.25, gate='soft', fusion='pairwise'),
    dict(channels=32, group_num=1, alpha=0.75, gate='hard', fusion='global'),
    dict(channels=32, group_num=4, alpha=0.5, gate='soft', fusion='global', gate_threshold=0.49),
    dict(channels=32, group_num=16, alpha=0.5, gate='hard', fusion='pairwise', squeeze_ratio=4),
    dict(channels=64, group_num=4, alpha=0.5, gate='soft', fusion='pairwise'),
    dict(channels=64, group_num=16, alpha=0.25, gate='hard', fusion='global', groups=4),
    dict(channels=64, group_num=1, alpha=0.75, gate='soft', fusion='global', kernel_size=5),
    dict(channels=64, group_num=4, alpha=0.5, gate='hard', fusion='pairwise', groups=1),
]

# Configurations PyTorch builds where r divides neither part (channel counts floored, int(a*C) // r),
# with k = 5, g = 3 and small C, over both gates and both fusions (issue 15).
FLOORED = [
    dict(channels=24, group_num=4, alpha=0.375, squeeze_ratio=2, gate='soft', fusion='pairwise'),  # 9/15 -> 4/7
    dict(channels=10, group_num=2, alpha=0.3, squeeze_ratio=2, groups=1, gate='hard', fusion='global'),  # 3/7 -> 1/3
    dict(channels=18, group_num=3, alpha=0.4, squeeze_ratio=2, groups=3, kernel_size=5, gate='hard', fusion='pairwise'),  # 7/11 -> 3/5
    dict(channels=16, group_num=4, alpha=0.75, squeeze_ratio=3, gate='soft', fusion='global'),  # 12/4 -> 4/1
    dict(channels=6, group_num=3, alpha=0.5, squeeze_ratio=2, groups=1, gate='hard', fusion='pairwise'),  # 3/3 -> 1/1
    dict(channels=2, group_num=1, alpha=0.5, squeeze_ratio=1, groups=1, gate='soft', fusion='global'),  # 1/1
]


def make(ref, config, batch, seed):
    """Same recipe as the reference's fixture(): seeded init, non-trivial GN affine, randn input."""
    torch.manual_seed(seed)
    m = ref.SCConv(**config)
    with torch.no_grad():
        m.SRU.gn.weight.uniform_(0.2, 1.5)
        m.SRU.gn.bias.uniform_(-0.5, 0.5)
    x = torch.randn(batch, config['channels'], SIZE, SIZE)
    with torch.no_grad():
        w, _, _ = m.SRU.weights(x)
        margin = (w - m.SRU.t).abs().min().item()
        above = (w > m.SRU.t).float().mean().item()
        y = m(x)
    return m, x, y, margin, above


def main():
    ref = load_reference(REF)
    fixtures = []
    for i, config in enumerate(CONFIGS + FLOORED):
        batch = 3 if i % 4 == 3 else 2
        seed = i
        m, x, y, margin, above = make(ref, config, batch, seed)
        while margin < MIN_MARGIN:
            seed += 1000
            m, x, y, margin, above = make(ref, config, batch, seed)
        name = '_'.join(f'{k}={v}' for k, v in config.items())
        fixtures.append({'name': name, 'set': 'spread' if i < len(CONFIGS) else 'floored', 'config': config, 'seed': seed, 'margin': margin, 'fraction_above_t': above,
                         'state_dict': {k: pack(v) for k, v in m.state_dict().items()},
                         'input': pack(x), 'output': pack(y)})
        print(f'{name}: batch {batch}, seed {seed}, margin {margin:.2e}, w > t for {above:.0%}', file=sys.stderr)
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({'generator': 'scripts/make_fixtures.py', 'torch': torch.__version__, 'size': SIZE,
                   'fixtures': fixtures}, f, separators=(',', ':'))
    os.replace(tmp, OUT)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)', file=sys.stderr)


if __name__ == '__main__':
    main()
