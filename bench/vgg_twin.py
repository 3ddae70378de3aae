#!/usr/bin/env python3
"""PyTorch twin of MarrowDiff's VggNet (lib/MarrowDiff/Model/VggNet.cs), timed the way `marrow bench` times it.

Same layers in the same order: 13 convolutions 3x3 (padding 1) each followed by BatchNorm2d and ReLU, dropout
between the convolutions of a block, 2x2 max-pooling after each block, then dropout, fc 512, ReLU, dropout,
fc 512, ReLU, fc classes. Channels are round(paper channels x width), at least 4, as VggConfig.Channels does;
an input larger than --input is average-pooled to it, as VggNet.forward does. The parameter count is printed so the
driver (bench/run.sh) can check both engines time the same network.

Training step = forward, cross-entropy, backward, SGD update (momentum 0.9, weight decay 5e-4), on random input;
inference step = forward under torch.no_grad() in eval mode. One warm-up step, then the mean of --steps.
Prints one JSON line per measurement.
"""
import argparse
import json
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# VGG's five blocks by depth: the output channels of each block's 3x3 convolutions (VggConfig.Vgg16/13/11).
BLOCKS = {
    16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    11: [[64], [128], [256, 256], [512, 512], [512, 512]],
}


def channels(paper, width):
    return max(4, int(round(paper * width)))  # C#'s Math.Round is banker's rounding, as Python's round


class VggTwin(nn.Module):
    """The layers carry VggNet's module names (features.conv1, features.bn1, ..., classifier.fc3), so a saved
    model.safetensors loads into it as it is (bench/marrow_model.py)."""

    def __init__(self, width=1.0, input_size=96, classes=10, classifier_width=512,
                 first_dropout=0.3, dropout=0.4, classifier_dropout=0.5, global_pool=False, depth=16):
        super().__init__()
        self.input_size, self.global_pool = input_size, global_pool
        layers, in_ch, conv = [], 3, 0
        for b, block in enumerate(BLOCKS[depth]):
            for i, paper in enumerate(block):
                out_ch = channels(paper, width)
                conv += 1
                layers += [(f"conv{conv}", nn.Conv2d(in_ch, out_ch, 3, padding=1)), (f"bn{conv}", nn.BatchNorm2d(out_ch)),
                           (f"relu{conv}", nn.ReLU(inplace=True))]
                if i + 1 < len(block):  # dropout between the convolutions of a block, none before a pooling
                    layers.append((f"drop{conv}", nn.Dropout(first_dropout if i == 0 else dropout)))
                in_ch = out_ch
            layers.append((f"pool{b + 1}", nn.MaxPool2d(2, 2)))
        self.features = nn.Sequential(OrderedDict(layers))
        side = input_size >> 5
        flat = in_ch if global_pool else in_ch * side * side
        self.classifier = nn.Sequential(OrderedDict([
            ("drop_fc1", nn.Dropout(classifier_dropout)), ("fc1", nn.Linear(flat, classifier_width)), ("relu_fc1", nn.ReLU(inplace=True)),
            ("drop_fc2", nn.Dropout(classifier_dropout)), ("fc2", nn.Linear(classifier_width, classifier_width)), ("relu_fc2", nn.ReLU(inplace=True)),
            ("fc3", nn.Linear(classifier_width, classes))]))
        for m in self.modules():  # MSRA, fan-in, as VggNet.InitialiseMsra
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        if x.shape[-1] != self.input_size:
            # A smaller input size: the 96-px patch averaged down by an integer factor, as VggNet.forward does.
            if x.shape[-1] % self.input_size:
                raise ValueError(f"input of {x.shape[-1]} px cannot be pooled to the network's {self.input_size} px")
            x = F.avg_pool2d(x, x.shape[-1] // self.input_size)
        x = self.features(x)
        x = x.mean((2, 3)) if self.global_pool else x.flatten(1)
        return self.classifier(x)


def measure(args):
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    p = args.dropout
    net = VggTwin(args.width, args.input, first_dropout=p, dropout=p, classifier_dropout=p)
    side = args.patch or args.input
    x = torch.randn(args.batch, 3, side, side)
    y = torch.randint(0, 10, (args.batch,))
    if args.mode == "train":
        net.train()
        sgd = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            loss = F.cross_entropy(net(x), y)
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            loss.item()
    else:
        net.eval()

        def step():
            with torch.no_grad():
                net(x).softmax(1).sum().item()
    step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({"engine": f"pytorch {torch.__version__}", "mode": args.mode, "width": args.width, "input": args.input, "patch": side,
                      "batch": args.batch, "seconds_per_step": seconds, "parameters": sum(q.numel() for q in net.parameters()),
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--width", type=float, default=1.0)
    a.add_argument("--input", type=int, default=96)
    a.add_argument("--patch", type=int, default=None)
    a.add_argument("--batch", type=int, default=40)
    a.add_argument("--steps", type=int, default=5)
    a.add_argument("--dropout", type=float, default=0.0)
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--mode", choices=["train", "infer"], default="train")
    measure(a.parse_args())
