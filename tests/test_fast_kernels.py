"""The per-task loop's faster kernels compute the same function: torch's fused batch norm where only
first derivatives are taken, and channels-last activations."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import torch

from engine.models.activation_layout import as_asked, channels_last_activations
from engine.models.batch_stat_norm import BatchStatNorm2d, first_derivatives_only
from engine.models.conv4 import Conv4


def test_fused_batch_norm_is_the_same_function_with_the_same_first_derivatives():
    torch.manual_seed(0)
    norm = BatchStatNorm2d(4).double()
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2)
        norm.bias.uniform_(-1, 1)
    x = (torch.randn(6, 4, 5, 5, dtype=torch.float64) * 3 + 2).requires_grad_()
    outputs, grads = [], []
    for kernel in (nullcontext, first_derivatives_only):
        with kernel():
            out = norm(x)
        outputs.append(out)
        grads.append(torch.autograd.grad((out.sin()).sum(), [x, norm.weight, norm.bias]))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-12, atol=1e-12)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_the_fused_kernel_is_only_used_inside_the_context_and_only_in_its_thread():
    norm = BatchStatNorm2d(2)
    x = torch.randn(3, 2, 4, 4)
    assert "NativeBatchNorm" not in type(norm(x).grad_fn).__name__
    with first_derivatives_only():
        assert "NativeBatchNorm" in type(norm(x).grad_fn).__name__
        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(lambda: type(norm(x).grad_fn).__name__).result()
        assert "NativeBatchNorm" not in other
    assert "NativeBatchNorm" not in type(norm(x).grad_fn).__name__


def test_one_channel_images_become_channels_last_views_with_the_same_values():
    x = torch.rand(3, 1, 6, 6)
    assert as_asked(x) is x  # not asked for
    with channels_last_activations():
        y = as_asked(x)
        z = as_asked(torch.rand(3, 2, 6, 6))
    assert y.is_contiguous(memory_format=torch.channels_last) and torch.equal(x, y)
    assert y.data_ptr() == x.data_ptr()  # a view, no copy
    assert z.is_contiguous(memory_format=torch.channels_last)


def test_conv4_gives_the_same_outputs_and_gradients_with_channels_last_activations():
    torch.manual_seed(0)
    net = Conv4(3, hidden=4, image_size=12).double()
    x = torch.rand(5, 1, 12, 12, dtype=torch.float64)
    results = []
    for layout in (nullcontext, channels_last_activations):
        with layout():
            out = net(x)
        results.append((out, torch.autograd.grad(out.square().sum(), list(net.parameters()))))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
