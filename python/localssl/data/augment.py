"""Two-view SimCLR-style augmentations, batched in plain torch so they run on the training device.

Every random draw comes from an explicit `torch.Generator`, so a seeded run sees the same views.
The order is fixed (crop, flip, colour jitter, greyscale, blur, normalise); torchvision shuffles
the jitter order, which changes nothing in distribution that matters here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from localssl.config import AugmentationConfig

# The view distribution is exactly the config's `data.augmentation` section.
AugmentSpec = AugmentationConfig


def blur_kernel_for(size: int) -> int:
    """The SimCLR blur kernel: int(0.1 * size) rounded up to odd (CIFAR 3, Tiny 7, STL-10 9),
    at least 3."""
    kernel = int(0.1 * size)
    return max(3, kernel + 1 - kernel % 2)


def _uniform(n: int, low: float, high: float, gen: torch.Generator, device: torch.device):
    return torch.rand(n, generator=gen, device=device) * (high - low) + low


def random_resized_crop(
    images: torch.Tensor,
    size: int,
    scale: tuple[float, float],
    flip_p: float,
    gen: torch.Generator,
) -> torch.Tensor:
    """Crop a random box of each image (area fraction in `scale`, aspect 3/4..4/3), resize it to
    `size` x `size` with bilinear sampling, and mirror it with probability `flip_p`.

    Args:
        images: (B, C, H, W) float.
    Returns:
        (B, C, size, size) float.
    """
    batch, device = images.shape[0], images.device
    area = _uniform(batch, scale[0], scale[1], gen, device)
    log_ratio = _uniform(batch, math.log(3 / 4), math.log(4 / 3), gen, device)
    ratio = torch.exp(log_ratio)

    # Box sides as fractions of the image side, clamped so the box stays inside the image.
    width = torch.sqrt(area * ratio).clamp(max=1.0)
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = _uniform(batch, 0, 1, gen, device) * (1 - width) * 2 - (1 - width)
    cy = _uniform(batch, 0, 1, gen, device) * (1 - height) * 2 - (1 - height)
    flip = torch.where(torch.rand(batch, generator=gen, device=device) < flip_p, -1.0, 1.0)

    theta = torch.zeros(batch, 2, 3, device=device, dtype=images.dtype)
    theta[:, 0, 0] = width * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = height
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, [batch, images.shape[1], size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)  # fmt: skip


def _grey(images: torch.Tensor) -> torch.Tensor:
    if images.shape[1] == 1:
        return images
    weights = torch.tensor([0.299, 0.587, 0.114], device=images.device, dtype=images.dtype)
    return (images * weights.view(1, 3, 1, 1)).sum(1, keepdim=True)


def _shift_hue(images: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate RGB colours about the grey axis by `turns` of a full turn, (B,) per image."""
    angle = turns * 2 * math.pi
    cos, sin = torch.cos(angle).view(-1, 1, 1), torch.sin(angle).view(-1, 1, 1)
    k = 1 / 3
    sq = math.sqrt(k)
    rows = [
        [cos + (1 - cos) * k, k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin],
        [k * (1 - cos) + sq * sin, cos + k * (1 - cos), k * (1 - cos) - sq * sin],
        [k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin, cos + k * (1 - cos)],
    ]
    matrix = torch.cat([torch.cat(row, dim=2) for row in rows], dim=1)
    return torch.einsum("bij,bjhw->bihw", matrix, images)


def color_jitter(images: torch.Tensor, spec: AugmentSpec, gen: torch.Generator) -> torch.Tensor:
    """Brightness, contrast, saturation and hue jitter, each image with probability jitter_p.

    Args:
        images: (B, C, H, W) float in [0, 1].
    """
    batch, device = images.shape[0], images.device
    apply = (torch.rand(batch, generator=gen, device=device) < spec.jitter_p).view(-1, 1, 1, 1)
    out = images

    if spec.brightness > 0:
        factor = _uniform(batch, max(0, 1 - spec.brightness), 1 + spec.brightness, gen, device)
        out = out * factor.view(-1, 1, 1, 1)
    if spec.contrast > 0:
        factor = _uniform(batch, max(0, 1 - spec.contrast), 1 + spec.contrast, gen, device)
        mean = _grey(out).mean(dim=(1, 2, 3), keepdim=True)
        out = (out - mean) * factor.view(-1, 1, 1, 1) + mean
    if spec.saturation > 0 and out.shape[1] == 3:
        factor = _uniform(batch, max(0, 1 - spec.saturation), 1 + spec.saturation, gen, device)
        grey = _grey(out)
        out = (out - grey) * factor.view(-1, 1, 1, 1) + grey
    if spec.hue > 0 and out.shape[1] == 3:
        out = _shift_hue(out, _uniform(batch, -spec.hue, spec.hue, gen, device))

    return torch.where(apply, out.clamp(0, 1), images)


def random_grayscale(images: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Replace each colour image by its luminance (kept as 3 channels) with probability p."""
    if p == 0 or images.shape[1] == 1:
        return images
    apply = torch.rand(images.shape[0], generator=gen, device=images.device) < p
    grey = _grey(images).expand_as(images)
    return torch.where(apply.view(-1, 1, 1, 1), grey, images)


def gaussian_blur(
    images: torch.Tensor, p: float, gen: torch.Generator, kernel: int | None = None
) -> torch.Tensor:
    """Blur each image with probability p; sigma in [0.1, 2].

    Args:
        images: (B, C, H, W) float.
        kernel: odd side of the kernel; None: `blur_kernel_for(H)`.
    """
    batch, channels, height, _ = images.shape
    if p == 0:
        return images
    kernel = blur_kernel_for(height) if kernel is None else kernel
    if kernel % 2 == 0 or kernel // 2 >= min(height, images.shape[-1]):
        raise ValueError(f"blur kernel {kernel}: must be odd and smaller than the {height} px view")
    sigma = _uniform(batch, 0.1, 2.0, gen, images.device)
    offsets = torch.arange(kernel, device=images.device, dtype=images.dtype) - kernel // 2
    weights = torch.exp(-(offsets.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
    weights = weights / weights.sum(dim=1, keepdim=True)

    # One depthwise separable convolution over all (image, channel) pairs at once.
    per_channel = weights.repeat_interleave(channels, dim=0)
    flat = images.reshape(1, batch * channels, height, -1)
    pad = kernel // 2
    flat = F.conv2d(F.pad(flat, (pad, pad, 0, 0), mode="reflect"),
                    per_channel.view(-1, 1, 1, kernel), groups=batch * channels)  # fmt: skip
    flat = F.conv2d(F.pad(flat, (0, 0, pad, pad), mode="reflect"),
                    per_channel.view(-1, 1, kernel, 1), groups=batch * channels)  # fmt: skip
    blurred = flat.view_as(images)

    apply = torch.rand(batch, generator=gen, device=images.device) < p
    return torch.where(apply.view(-1, 1, 1, 1), blurred, images)


def make_view(
    images: torch.Tensor, size: int, spec: AugmentSpec, gen: torch.Generator
) -> torch.Tensor:
    """One augmented view of a batch.

    Args:
        images: (B, C, H, W) uint8 or float in [0, 1], on the training device.
    Returns:
        (B, C, size, size) float in [0, 1], not yet normalised.
    """
    x = images.float() / 255 if images.dtype == torch.uint8 else images
    x = random_resized_crop(x, size, spec.crop_scale, spec.flip_p, gen)
    x = color_jitter(x, spec, gen)
    x = random_grayscale(x, spec.grayscale_p, gen)
    return gaussian_blur(x, spec.blur_p, gen, spec.blur_kernel)


def eval_view(images: torch.Tensor, size: int, resize: int | None = None) -> torch.Tensor:
    """The un-augmented view: optionally resized to `resize` x `resize` first (STL-10's test
    transform is Resize(105) + CenterCrop(96)), then centre crop or pad to `size`, in [0, 1].

    Args:
        images: (B, C, H, W) uint8.
    Returns:
        (B, C, size, size) float.
    """
    x = images.float() / 255
    if resize is not None and resize != x.shape[-1]:
        x = F.interpolate(x, size=(resize, resize), mode="bilinear", align_corners=False,
                          antialias=True).clamp(0, 1)  # fmt: skip
    height, width = x.shape[-2:]
    if height < size or width < size:
        pad_h, pad_w = max(0, size - height), max(0, size - width)
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        height, width = x.shape[-2:]
    top, left = (height - size) // 2, (width - size) // 2
    return x[..., top : top + size, left : left + size]


def probe_view(images: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """The probe's training view: random resized crop (scale 0.08..1) and a horizontal flip."""
    x = eval_view(images, max(size, images.shape[-1]))
    return random_resized_crop(x, size, (0.08, 1.0), 0.5, gen)


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """Per-channel normalisation of (B, C, H, W) in [0, 1]."""
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s
