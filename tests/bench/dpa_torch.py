#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The DPA training and scoring step in PyTorch, for bench_dpa.sh:
residual18 encoder/decoder (spec dpa-piad.md 3), relative perceptual L1 on a
VGG19 with random weights (the speed does not depend on them), Adam.

usage: dpa_torch.py camelyon16|nih-pa ITERS THREADS
Prints: train_images_per_s score_images_per_s peak_rss_mb
"""
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LR = 0.2
CONFIGS = {  # image_dim, channels, latent_res, latent_dim, tap, batch
    "camelyon16": (3, 4, 8, 4, "r42", 128),
    "nih-pa": (1, 16, 1, 16, "r32", 128),
}


class PreAct(nn.Module):
    def __init__(self, cin, cout, kind="pre"):
        super().__init__()
        self.kind = kind
        self.c1, self.c2 = nn.Conv2d(cin, cout, 3, padding=1), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h, s = F.leaky_relu(x, LR), x
        if self.kind == "down":
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        elif self.kind == "up":
            h, s = F.interpolate(h, scale_factor=2), F.interpolate(x, scale_factor=2)
        h = self.c2(F.leaky_relu(self.c1(h), LR))
        return (self.skip(s) if self.skip is not None else s) + h


class Enc(nn.Module):
    def __init__(self, dim, ch, latent_res, latent_dim, res=64):
        super().__init__()
        last = 4 if latent_res == 1 else latent_res
        layers = [nn.Conv2d(dim, ch, 3, padding=1), PreAct(ch, ch), PreAct(ch, ch)]
        r = res
        while r >= 2 * last:
            layers += [PreAct(ch, ch, "down"), PreAct(ch, ch)]
            r //= 2
        if latent_res == 1:
            layers += [nn.LeakyReLU(LR), nn.Conv2d(ch, latent_dim, 4)]
        else:
            layers += [PreAct(ch, latent_dim)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class Dec(nn.Module):
    def __init__(self, dim, ch, latent_res, latent_dim, res=64):
        super().__init__()
        last = 4 if latent_res == 1 else latent_res
        layers = [nn.LeakyReLU(LR), nn.Conv2d(latent_dim, ch, 4, padding=3)] if latent_res == 1 else [PreAct(ch, ch)]
        r = 2 * last
        while r <= res:
            layers += [PreAct(ch, ch, "up"), PreAct(ch, ch)]
            r *= 2
        layers += [nn.LeakyReLU(LR), nn.Conv2d(ch, dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


VGG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512]
TAP_CONVS = {"r32": 6, "r42": 10}


class Perceptual(nn.Module):
    def __init__(self, tap):
        super().__init__()
        layers, cin, convs = [], 3, 0
        for v in VGG:
            if convs == TAP_CONVS[tap]:
                break
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
                cin, convs = v, convs + 1
        self.f = nn.Sequential(*layers)
        for p in self.parameters():
            p.requires_grad_(False)
        self.mean = torch.rand(1, cin, 1, 1)
        self.var = torch.rand(1, cin, 1, 1) + 0.5
        self.register_buffer("im", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("sd", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x, y, reduction):
        if x.shape[1] == 1:
            x, y = x.expand(-1, 3, -1, -1), y.expand(-1, 3, -1, -1)
        fx = (self.f(((x * 0.5 + 0.5) - self.im) / self.sd) - self.mean) / self.var
        fy = (self.f(((y * 0.5 + 0.5) - self.im) / self.sd) - self.mean) / self.var
        per = (fx - fy).abs().mean(dim=(1, 2, 3)) / fx.abs().mean(dim=(1, 2, 3)).detach()
        return per.mean() if reduction == "mean" else per


def main():
    name, iters, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    dim, ch, lres, ldim, tap, batch = CONFIGS[name]
    enc, dec, loss = Enc(dim, ch, lres, ldim), Dec(dim, ch, lres, ldim), Perceptual(tap)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    data = torch.rand(batch, dim, 64, 64) * 2 - 1
    for i in range(iters + 1):  # the first step warms up
        if i == 1:
            t0 = time.time()
        l = loss(data, dec(enc(data)), "mean")
        opt.zero_grad()
        l.backward()
        opt.step()
    train = batch * iters / (time.time() - t0)
    test = torch.rand(256, dim, 64, 64) * 2 - 1
    with torch.no_grad():
        loss(test[:32], dec(enc(test[:32])), "none")
        t0 = time.time()
        for b in range(0, 256, 32):
            x = test[b:b + 32]
            loss(x, dec(enc(x)), "none")
        score = 256 / (time.time() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{train:.1f} {score:.1f} {rss:.0f}")


if __name__ == "__main__":
    main()
