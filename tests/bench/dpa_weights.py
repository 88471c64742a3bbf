#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a VGG19 `features` state dict (up to conv4_2) with random weights
and a feature mean/var file for bench_dpa.sh: the speed of the perceptual
loss does not depend on the weights. usage: dpa_weights.py DIR"""
import os
import sys

import torch

d = sys.argv[1]
torch.manual_seed(0)
convs = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256), (14, 256, 256),
         (16, 256, 256), (19, 256, 512), (21, 512, 512)]
sd = {}
for i, cin, cout in convs:
    sd[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3) * (2 / (cin * 9)) ** 0.5
    sd[f"features.{i}.bias"] = torch.zeros(cout)
torch.save(sd, os.path.join(d, "vgg19-dcbb9e9d.pth"))
stats = {}
for tap, c in [("r32", 256), ("r42", 512)]:
    stats[tap] = (torch.rand(1, c, 1, 1), torch.rand(1, c, 1, 1) + 0.5)
torch.save(stats, os.path.join(d, "vgg19_ILSVRC2012_object_detection_mean_var.pt"))
