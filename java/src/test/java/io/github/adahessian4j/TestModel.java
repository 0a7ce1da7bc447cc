package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A small loss over parameters of every rank 0-5 (a scalar, a bias, a linear weight, Conv1d, Conv2d
 * and Conv3d kernels) plus one parameter the loss never uses. tanh makes every Hessian block
 * non-zero and non-diagonal. Test code only.
 */
final class TestModel {
  final List<Tensor> params = new ArrayList<>();
  final Tensor scale;
  final Tensor bias;
  final Tensor weight;
  final Tensor conv1;
  final Tensor conv2;
  final Tensor conv3;
  final Tensor unused;
  private final Tensor x;
  private final Tensor signal;
  private final Tensor image;
  private final Tensor volume;

  TestModel(torch.ScalarType dtype, long seed) {
    scale = add(T.randomParam(seed, dtype));
    bias = add(T.randomParam(seed + 1, dtype, 6));
    weight = add(T.randomParam(seed + 2, dtype, 6, 4));
    conv1 = add(T.randomParam(seed + 3, dtype, 2, 2, 3));
    conv2 = add(T.randomParam(seed + 4, dtype, 3, 2, 3, 3));
    conv3 = add(T.randomParam(seed + 5, dtype, 2, 1, 2, 2, 2));
    unused = add(T.randomParam(seed + 6, dtype, 5));
    x = input(seed + 10, dtype, 5, 4);
    signal = input(seed + 11, dtype, 1, 2, 6);
    image = input(seed + 12, dtype, 1, 2, 5, 5);
    volume = input(seed + 13, dtype, 1, 1, 3, 3, 3);
  }

  private Tensor add(Tensor p) {
    params.add(p);
    return p;
  }

  private static Tensor input(long seed, torch.ScalarType dtype, long... shape) {
    Tensor t = T.randomParam(seed, dtype, shape);
    t.requires_grad_(false);
    return t;
  }

  Tensor loss() {
    Tensor hidden = torch.tanh(torch.matmul(x, weight.t()).add(bias));
    Tensor a = hidden.square().sum().mul(torch.tanh(scale));
    Tensor b = torch.tanh(torch.conv1d(signal, conv1)).square().mean();
    Tensor c = torch.tanh(torch.conv2d(image, conv2)).square().mean();
    Tensor d = torch.tanh(torch.conv3d(volume, conv3)).square().mean();
    return a.add(b).add(c).add(d).add(scale.square());
  }
}
