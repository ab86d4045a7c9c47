"""The CIFAR ResNets of src/models/resnet.ts in PyTorch, under two naming schemes, and their
state dicts as JSON (the format src/interop/ reads and writes).

  /usr/bin/python3 scripts/torch_resnet.py export --depth 20 --conv scconv --shortcut A out.json
  /usr/bin/python3 scripts/torch_resnet.py check  --depth 20 --conv scconv --shortcut A back.json

`export` writes a seeded model's state dict; `check` loads a state dict written by
`modelToTorchStateDict` (strict: every name and shape must match) and prints the logits of a
fixed input, so they can be compared with the tfjs model's.

Names (see src/interop/torch_names.ts):
  akamaster  akamaster/pytorch_resnet_cifar10: conv1, bn1, layer1.0.conv1, ..., layer1.0.shortcut.0, linear
  bench      ../shared/bench/torch_resnet_bench.py: stem.0, stem.1, layers.0.c1, ..., layers.0.sc.0, fc
Structure (as createResNet builds it): shortcut 'A' zero-pads channels (akamaster's option A), 'B'
is a 1x1 conv + BN; SCConv replaces conv2 ('second') or also conv1 ('both'), where a block changes
channels or stride through the library's adapter: SCConv(C_in) then a strided 1x1 conv `proj`.
(The bench script's own 'both' keeps a standard conv there instead.) The reference SCConv is
../shared/reference/scconv_reference.py, or the path in $SCCONV_REFERENCE.
"""
import argparse
import base64
import importlib.util
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.environ.get('SCCONV_REFERENCE') or os.path.join(ROOT, '..', 'shared', 'reference', 'scconv_reference.py')


_modules = {}


def load_reference(path=None):
    """The reference module (imported by path, once per path)."""
    path = path or REFERENCE
    if path not in _modules:
        spec = importlib.util.spec_from_file_location('scconv_reference', path)
        _modules[path] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_modules[path])
    return _modules[path]


class AdaptedSCConv(nn.Module):
    """SCConv(C_in), then this library's channel/stride adapter (a 1x1 conv) where the shape changes."""

    def __init__(self, cin, cout, stride, **kw):
        super().__init__()
        core = load_reference().SCConv(cin, **kw)
        self.SRU, self.CRU = core.SRU, core.CRU
        self.proj = nn.Conv2d(cin, cout, 1, stride, bias=False) if cin != cout or stride != 1 else None

    def forward(self, x):
        y = self.CRU(self.SRU(x))
        return y if self.proj is None else self.proj(y)


def conv3x3(cin, cout, stride, kind, scconv):
    if kind == 'scconv':
        return AdaptedSCConv(cin, cout, stride, **scconv)
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class PadShortcut(nn.Module):
    """Option A: x[:, :, ::2, ::2] with the new channels zero-padded evenly on both sides."""

    def __init__(self, cin, cout):
        super().__init__()
        self.before, self.after = (cout - cin) // 2, cout - cin - (cout - cin) // 2

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.before, self.after))


def shortcut(cin, cout, stride, option):
    if stride == 1 and cin == cout:
        return nn.Sequential()
    if option == 'A':
        return PadShortcut(cin, cout)
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


def plan(depth, width):
    """(stage, block, cin, cout, stride) for every BasicBlock of a 6n+2 CIFAR ResNet."""
    n, cin, out = (depth - 2) // 6, width, []
    for stage, cout in enumerate([width, 2 * width, 4 * width]):
        for i in range(n):
            out.append((stage, i, cin, cout, 2 if stage > 0 and i == 0 else 1))
            cin = cout
    return out


class Block(nn.Module):
    """BasicBlock; `names` are its five modules' names: conv1, bn1, conv2, bn2, shortcut in that order."""

    def __init__(self, names, cin, cout, stride, conv, placement, option, scconv):
        super().__init__()
        self.names = names
        modules = [conv3x3(cin, cout, stride, conv if placement == 'both' else 'standard', scconv), nn.BatchNorm2d(cout),
                   conv3x3(cout, cout, 1, conv, scconv), nn.BatchNorm2d(cout), shortcut(cin, cout, stride, option)]
        for name, module in zip(names, modules):
            self.add_module(name, module)

    def forward(self, x):
        conv1, bn1, conv2, bn2, sc = (getattr(self, n) for n in self.names)
        y = F.relu(bn1(conv1(x)))
        return F.relu(bn2(conv2(y)) + sc(x))


AKAMASTER_BLOCK = ('conv1', 'bn1', 'conv2', 'bn2', 'shortcut')
BENCH_BLOCK = ('c1', 'b1', 'c2', 'b2', 'sc')


class AkamasterResNet(nn.Module):
    """akamaster/pytorch_resnet_cifar10's module names: conv1, bn1, layer1..3, linear."""

    def __init__(self, depth, conv, placement, option, width, scconv, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages = [[], [], []]
        for stage, _, cin, cout, stride in plan(depth, width):
            stages[stage].append(Block(AKAMASTER_BLOCK, cin, cout, stride, conv, placement, option, scconv))
        self.layer1, self.layer2, self.layer3 = (nn.Sequential(*s) for s in stages)
        self.linear = nn.Linear(4 * width, classes)

    def forward(self, x):
        y = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.linear(F.adaptive_avg_pool2d(y, 1).flatten(1))


class BenchResNet(nn.Module):
    """../shared/bench/torch_resnet_bench.py's module names: stem, layers, fc."""

    def __init__(self, depth, conv, placement, option, width, scconv, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.layers = nn.Sequential(*(Block(BENCH_BLOCK, cin, cout, stride, conv, placement, option, scconv)
                                      for _, _, cin, cout, stride in plan(depth, width)))
        self.fc = nn.Linear(4 * width, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1).flatten(1))


def build(names='akamaster', depth=20, conv='standard', placement='second', shortcut='B', width=16, scconv=None):
    cls = AkamasterResNet if names == 'akamaster' else BenchResNet
    return cls(depth, conv, placement, shortcut, width, scconv or {})


def pack(t):
    """A tensor as {shape, data: base64 of little-endian float32} (fixtures: exact and small)."""
    flat = t.detach().to(torch.float32).flatten().tolist()
    return {'shape': list(t.shape), 'data': base64.b64encode(struct.pack('<%df' % len(flat), *flat)).decode('ascii')}


def to_json(state_dict):
    """A state dict as {name: {shape, data: [numbers], dtype?}}, the format src/interop/ reads."""
    def entry(v):
        e = {'shape': list(v.shape), 'data': v.detach().flatten().tolist()}
        if not v.is_floating_point():
            e['dtype'] = 'int64'
        return e
    return {k: entry(v) for k, v in state_dict.items()}


def from_json(entries):
    """The inverse of to_json; also what modelToTorchStateDict writes."""
    return {k: torch.tensor(e['data'], dtype=torch.long if e.get('dtype') == 'int64' else torch.float32).reshape(e['shape'])
            for k, e in entries.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('command', choices=['export', 'check'])
    p.add_argument('file')
    p.add_argument('--names', default='akamaster', choices=['akamaster', 'bench'])
    p.add_argument('--depth', type=int, default=20)
    p.add_argument('--conv', default='standard', choices=['standard', 'scconv'])
    p.add_argument('--placement', default='second', choices=['second', 'both'])
    p.add_argument('--shortcut', default='B', choices=['A', 'B'])
    p.add_argument('--width', type=int, default=16)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--size', type=int, default=32, help='input height and width for check')
    a = p.parse_args()
    torch.manual_seed(a.seed)
    m = build(a.names, a.depth, a.conv, a.placement, a.shortcut, a.width)
    if a.command == 'export':
        with open(a.file, 'w') as f:
            json.dump(to_json(m.state_dict()), f)
        print(f'wrote {a.file} ({len(m.state_dict())} entries)', file=sys.stderr)
        return
    with open(a.file) as f:
        m.load_state_dict(from_json(json.load(f)), strict=True)
    m.eval()
    x = torch.linspace(-1, 1, 3 * a.size * a.size).reshape(1, 3, a.size, a.size)  # NCHW; the same ramp NHWC-transposed in tfjs
    with torch.no_grad():
        print(json.dumps({'logits': m(x).flatten().tolist()}))


if __name__ == '__main__':
    main()
