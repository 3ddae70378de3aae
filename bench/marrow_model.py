"""A saved MarrowDiff model folder in PyTorch: the network rebuilt, its weights read, its cells scored as MarrowDiff does.

    import sys; sys.path.insert(0, "path/to/MarrowDiff/bench")
    import marrow_model
    model = marrow_model.load("path/to/model")          # one model, or a fold ensemble (ensemble.json)
    probabilities = model.probabilities(patches)         # uint8 [cells, 96, 96, 3] RGB -> [cells, classes]
    model.classes                                        # the class of each column

What a folder holds and how it is used here, as lib/MarrowDiff/Model does it:
- model.safetensors: the weights under the C# modules' names (VggNet, ResNet18), with the network's JSON in its
  metadata ("marrowdiff_network"), the same JSON model.json carries, so the network is built from the file that is read;
- normalisation.json: RGB in [0, 1] -> YUV (BT.601, Torch7's rgb2yuv) -> per channel minus mean over std;
- model.json: whether the model answers with the mean softmax over the eight rotations and flips of a cell
  (Config.Refinements.TestTimeD4);
- ensemble.json (a fold ensemble): its member folders, whose softmax outputs are averaged.
The input is a 96x96 RGB patch at 0.16 um/px centred on the cell, as MarrowDiff cuts it (the model's README.md).

PyTorch 1.13 or later; safetensors is read here (PyTorch 1.13 has no reader of its own), so nothing else is needed.
tests/MarrowDiff.Tests/Model/PyTorchTwinTests.cs runs the snippet of a model's README.md through this module and
holds its probabilities to TorchSharp's.
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from vgg_twin import VggTwin

# Torch7's rgb2yuv (lib/MarrowDiff/Imaging/Yuv.cs).
RGB_TO_YUV = torch.tensor([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]])
PATCH = 96

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """(metadata, {name: tensor}) of a safetensors file: 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes, too short for a safetensors file")
    n = struct.unpack("<Q", data[:8])[0]
    if 8 + n > len(data):
        raise ValueError(f"{path}: header of {n} bytes in a file of {len(data)}: truncated or not a safetensors file")
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    body = data[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: {name} has dtype {t['dtype']}, not one MarrowDiff writes")
        start, end = t["data_offsets"]
        dtype = _DTYPES[t["dtype"]]
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(t["shape"])
    return metadata, tensors


class CntkConv(nn.Module):
    """A convolution without bias padded as CNTK padded it (ResNet18.cs's CntkConv2d): k/2 on every side at stride 1;
    at stride 2, k/2 before and one fewer after (a 1x1 shortcut none)."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(cout, cin, k, k))
        self.stride = stride
        self.pads = (k // 2, k // 2) if stride == 1 else (0, 0) if k == 1 else (k // 2, k // 2 - 1)

    def forward(self, x):
        before, after = self.pads
        return F.conv2d(F.pad(x, (before, after, before, after)), self.weight, stride=self.stride)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = CntkConv(cin, cout, 3, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = CntkConv(cout, cout, 3, 1), nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(OrderedDict([("0", CntkConv(cin, cout, 1, stride)), ("1", nn.BatchNorm2d(cout))]))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18Twin(nn.Module):
    """ResNet18.cs: CNTK's ImageNet ResNet-18 (three basic blocks in the last stage), torchvision's names, and the fixed
    1x1 convolution in front (input_weight, input_bias) that turns normalised YUV back into BGR 0-255 minus the mean
    pixel; a patch smaller than the network's input is resized bilinearly after it."""

    def __init__(self, input_size=128, classes=5):
        super().__init__()
        self.input_size = input_size
        self.register_buffer("input_weight", torch.zeros(3, 3, 1, 1))
        self.register_buffer("input_bias", torch.zeros(3))
        self.conv1, self.bn1 = CntkConv(3, 64, 7, 2), nn.BatchNorm2d(64)
        stage = lambda cin, cout, stride, blocks=2: nn.Sequential(OrderedDict(
            (str(i), BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1)) for i in range(blocks)))
        self.layer1, self.layer2 = stage(64, 64, 1), stage(64, 128, 2)
        self.layer3, self.layer4 = stage(128, 256, 2), stage(256, 512, 2, blocks=3)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = F.conv2d(x, self.input_weight, self.input_bias)
        if x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.pad(x, (1, 0, 1, 0)), 3, 2)  # CNTK's pooling: one row and column before
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


def network(config):
    """The network a model's JSON names ("Kind": "vgg" or "resnet18-imagenet"), in eval mode, untrained."""
    kind = config.get("Kind")
    if kind == "vgg":
        net = VggTwin(width=config["Width"], input_size=config["InputSize"], classes=config["Classes"],
                      classifier_width=config["ClassifierWidth"], global_pool=config.get("GlobalPool", False),
                      depth=config.get("Depth", 16))
    elif kind == "resnet18-imagenet":
        net = ResNet18Twin(input_size=config["InputSize"], classes=config["Classes"])
    else:
        raise ValueError(f"network kind {kind!r}: this loader knows 'vgg' and 'resnet18-imagenet'")
    return net.eval()


class Model:
    """One saved model: its network with the weights in, its normalisation, its classes."""

    def __init__(self, folder):
        path = lambda name: _existing(folder, name)
        metadata, tensors = read_safetensors(path("model.safetensors"))
        if "marrowdiff_network" not in metadata:
            raise ValueError(f"{path('model.safetensors')}: no 'marrowdiff_network' metadata: not a model this MarrowDiff saved")
        self.net = network(json.loads(metadata["marrowdiff_network"]))
        # strict: a name or shape that differs means the weights are not this network's, said by PyTorch.
        self.net.load_state_dict(tensors, strict=True)
        with open(path("normalisation.json")) as f:
            norm = json.load(f)
        self.mean = torch.tensor(norm["mean"], dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(norm["std"], dtype=torch.float32).view(1, 3, 1, 1)
        with open(path("classes.json")) as f:
            self.classes = json.load(f)
        with open(path("model.json")) as f:
            card = json.load(f)
        self.test_time_d4 = bool(((card.get("Config") or {}).get("Refinements") or {}).get("TestTimeD4", False))

    def inputs(self, patches):
        """uint8 RGB [cells, 96, 96, 3] -> normalised YUV [cells, 3, 96, 96], as ColourNormalisation.ToInput."""
        if patches.dtype != torch.uint8 or patches.dim() != 4 or tuple(patches.shape[1:]) != (PATCH, PATCH, 3):
            raise ValueError(f"patches of {patches.dtype} {tuple(patches.shape)}: give uint8 [cells, {PATCH}, {PATCH}, 3] RGB")
        rgb = patches.to(torch.float32) / 255
        yuv = torch.einsum("nhwc,dc->ndhw", rgb, RGB_TO_YUV)
        return (yuv - self.mean) / self.std

    @torch.no_grad()
    def probabilities(self, patches):
        x = self.inputs(patches)
        if not self.test_time_d4:
            return self.net(x).softmax(1)
        # The mean over the eight rotations and flips of each cell (Inference.Softmax).
        poses = [p for q in range(4) for t in [x.rot90(q, (2, 3))] for p in (t, t.flip(3))]
        return torch.stack([self.net(p).softmax(1) for p in poses]).mean(0)


class Ensemble:
    """A fold ensemble: the mean of its members' softmax outputs (each normalises with its own statistics)."""

    def __init__(self, folder):
        with open(_existing(folder, "ensemble.json")) as f:
            names = json.load(f)["Members"]
        self.members = [Model(os.path.join(folder, name)) for name in names]
        self.classes = self.members[0].classes

    @torch.no_grad()
    def probabilities(self, patches):
        return torch.stack([m.probabilities(patches) for m in self.members]).mean(0)


def load(folder):
    """A saved model folder: a fold ensemble where it holds ensemble.json, else one model."""
    return Ensemble(folder) if os.path.exists(os.path.join(folder, "ensemble.json")) else Model(folder)


def _existing(folder, name):
    p = os.path.join(folder, name)
    if not os.path.exists(p):
        raise FileNotFoundError(f"{folder} is not a MarrowDiff model: {name} is missing")
    return p
