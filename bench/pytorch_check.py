#!/usr/bin/env python3
"""A trained model's answers in PyTorch against `marrow predict`'s, cell by cell, on real cells.

PyTorchTwinTests holds bench/marrow_model.py to TorchSharp on made-up patches and weights; this checks a model trained
on real cells, on real cells, end to end through the command a user runs:

    /usr/bin/python3 bench/pytorch_check.py cut --root DIR --cells LIST.csv --pitch 0.102 --out PATCHES
    dotnet run -c Release --project lib/MarrowDiff.Cli -- predict --model M --images PATCHES --pitch 0.16 --out ts.csv
    /usr/bin/python3 bench/pytorch_check.py compare --model M --images PATCHES --predictions ts.csv

`cut` brings each listed image (the `cell` column of a per-cell predictions file, relative to --root) from its pitch
to MarrowDiff's 0.16 um/px and cuts the 96-px patch at its centre, as PNG: images already at the project's pitch and
size, so `marrow predict --pitch 0.16` scores exactly these pixels. `compare` scores the same files in PyTorch and
prints how far its probabilities are from predict's (which writes 4 decimals) and how many cells get another class.
"""
import argparse
import csv
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import marrow_model  # noqa: E402

PITCH = 0.16


def cut(args):
    os.makedirs(args.out, exist_ok=True)
    with open(args.cells, newline="") as f:
        cells = [row["cell"] for row in csv.DictReader(f)]
    for i, cell in enumerate(cells):
        image = Image.open(os.path.join(args.root, cell)).convert("RGB")
        factor = args.pitch / PITCH
        image = image.resize((round(image.width * factor), round(image.height * factor)), Image.BILINEAR)
        left, top = (image.width - marrow_model.PATCH) // 2, (image.height - marrow_model.PATCH) // 2
        if left < 0 or top < 0:
            raise SystemExit(f"{cell}: {image.width}x{image.height} px at {PITCH} um/px, smaller than a {marrow_model.PATCH}-px patch")
        patch = image.crop((left, top, left + marrow_model.PATCH, top + marrow_model.PATCH))
        patch.save(os.path.join(args.out, f"{i:04d}-{os.path.basename(cell).rsplit('.', 1)[0]}.png"))
    print(f"{len(cells)} patches of {marrow_model.PATCH} px at {PITCH} um/px -> {args.out}")


def compare(args):
    model = marrow_model.load(args.model)
    with open(args.predictions, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{args.predictions}: no rows")
    columns = [c for c in rows[0] if c.startswith("p_")]
    if len(columns) != len(model.classes):
        raise SystemExit(f"{args.predictions}: {len(columns)} probability columns for a model of {len(model.classes)} classes")
    worst, other, batch = 0.0, 0, 50
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        patches = torch.from_numpy(np.stack([np.asarray(Image.open(os.path.join(args.images, os.path.basename(r["file"]))).convert("RGB")) for r in chunk]))
        got = model.probabilities(patches)
        want = torch.tensor([[float(r[c]) for c in columns] for r in chunk])
        worst = max(worst, float((got - want).abs().max()))
        other += int((got.argmax(1) != want.argmax(1)).sum())
    print(f"{len(rows)} cells: largest |PyTorch - marrow predict| {worst:.2e} (predict writes 4 decimals); "
          f"{other} cells with another class")
    return 0 if worst <= 1e-4 and other == 0 else 1


if __name__ == "__main__":
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = a.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cut")
    c.add_argument("--root", required=True)
    c.add_argument("--cells", required=True)
    c.add_argument("--pitch", type=float, required=True, help="um per pixel of the listed images")
    c.add_argument("--out", required=True)
    m = sub.add_parser("compare")
    m.add_argument("--model", required=True)
    m.add_argument("--images", required=True)
    m.add_argument("--predictions", required=True)
    args = a.parse_args()
    sys.exit(compare(args) if args.command == "compare" else cut(args))
