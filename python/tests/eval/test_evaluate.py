"""Per-layer probes and the k-NN document: shapes, slices and fields."""

from __future__ import annotations

import itertools

import torch

from localssl.evaluate import LayerProbes, knn_result, layer_slices
from localssl.models.vgg import VGGEncoder, scaled_widths

FULL = (128, 256, 256, 512, 1024, 1024)


def test_layer_slices_cover_the_32768_probe_features_of_every_dataset() -> None:
    encoder = VGGEncoder(FULL, 3).to("meta")
    for size, pools in ((32, [4, 4, 4, 2, 2, 1]), (96, [12, 12, 12, 6, 6, 3]),
                        (64, [8, 8, 8, 4, 4, 2])):  # fmt: skip
        slices = layer_slices(encoder.layer_shapes(size), pools)
        dims = [s.stop - s.start for s in slices]
        assert dims == [8192, 4096, 4096, 8192, 4096, 4096]
        assert slices[0].start == 0 and slices[-1].stop == 32768
        assert all(a.stop == b.start for a, b in itertools.pairwise(slices))


def test_layer_probes_have_one_head_per_layer_and_learn_separable_features() -> None:
    torch.manual_seed(0)
    widths = scaled_widths(FULL, 1 / 32)
    shapes = VGGEncoder(widths, 3).layer_shapes(32)
    slices = layer_slices(shapes, [4, 4, 4, 2, 2, 1])
    probes = LayerProbes(slices, 3, lr=1e-2, weight_decay=0.0, device=torch.device("cpu"))
    assert [head.in_features for head in probes.heads] == [s.stop - s.start for s in slices]
    assert {head.out_features for head in probes.heads} == {3}

    # Only layer 3's columns carry the label.
    labels = torch.arange(60) % 3
    features = torch.randn(60, slices[-1].stop)
    informative = slices[2].stop - slices[2].start
    signal = torch.nn.functional.one_hot(labels, 3).float().repeat(1, informative // 3 + 1)
    features[:, slices[2]] += 4 * signal[:, :informative]
    for epoch in range(30):
        probes.step(features, labels)
        top1 = probes.record(features, labels)
        assert len(top1) == 6 and all(len(h) == epoch + 1 for h in probes.history)
    assert probes.history[2][-1] == 100.0

    doc = probes.result("epoch-0001", [4, 4, 4, 2, 2, 1], {"augmentation": "none"})
    assert doc["epochs"] == 30 and len(doc["layers"]) == 6
    assert doc["layers"][2] | {"best_epoch": 0} == {"layer": 3, "feature_dim": 128, "pool": 4,
        "test_top1": 100.0, "best_test_top1": 100.0, "best_epoch": 0}  # fmt: skip
    assert doc["protocol"]["augmentation"] == "none"


def test_knn_result_states_its_protocol() -> None:
    bank = torch.eye(4).repeat(3, 1)
    labels = torch.arange(12) % 4
    doc = knn_result(bank, labels, torch.eye(4), torch.arange(4), (1, 20), 0.07, 4, "none",
                     [1, 2, 3, 4, 5, 6])  # fmt: skip
    assert doc["results"] == [
        {"k": 1, "k_used": 1, "test_top1": 100.0},
        {"k": 20, "k_used": 12, "test_top1": 100.0},
    ]
    assert (doc["feature_dim"], doc["bank_images"], doc["test_images"]) == (4, 12, 4)
    assert doc["protocol"]["similarity"] == "cosine"
    assert doc["protocol"]["weighting"] == "exp(similarity / 0.07)"
    assert doc["protocol"]["layers"] == [1, 2, 3, 4, 5, 6]
