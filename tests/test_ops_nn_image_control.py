"""Convolution, pooling, attention, CTC, image and control-flow ops against ``keras.ops``.

Read first :func:`test_conv_is_a_sum_over_windows`, one convolution written out by hand.
Then, for every case below:

- float64 values agree with ``keras.ops`` to ``1e-12`` (the ops' float64 kernels), float32
  values and dtypes to float32 rounding (the few cases where TensorFlow itself computes in
  float32 are listed below, each with the reason and the looser tolerance);
- the tape's gradient with respect to every float input equals ``tf.GradientTape``'s
  (float64, random upstream gradient, ``1e-12``), except where TensorFlow has no such
  gradient (listed in ``NO_TENSORFLOW_GRADIENT``);
- for a sample of cases, the tape's gradient equals central finite differences
  (:func:`minired.gradcheck.numerical_gradient`), which needs no reference library;
- ``custom_gradient`` and the control-flow ops run inside a user's layer trained by ``fit``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from test_ops_keras import compare, keras_env  # noqa: F401 (keras_env: the fixture)

import minired as mr
from minired import gradcheck, ops
from minired.autodiff import GradientTape


def case_inputs(dtype: str) -> SimpleNamespace:
    """Small arrays; float32-representable values, so that TensorFlow's float64 max pool
    (which goes through float32 with oneDNN, measured) has nothing to round."""
    rng = np.random.default_rng(3)

    def normal(*shape):
        return rng.standard_normal(shape).astype("float32").astype(dtype)

    def uniform(*shape, low=0.0, high=1.0):
        return rng.uniform(low, high, shape).astype("float32").astype(dtype)

    return SimpleNamespace(
        img=uniform(2, 6, 5, 3), seq=normal(2, 9, 3), vol=normal(1, 4, 5, 4, 2),
        k2=normal(3, 2, 3, 4), k1=normal(3, 3, 2), k3=normal(2, 2, 2, 2, 3),
        kt=normal(3, 3, 4, 3), kt1=normal(3, 2, 3), kd=normal(3, 3, 3, 2), kd1=normal(2, 3, 2),
        kp=normal(1, 1, 6, 4),
        q=normal(2, 4, 2, 3), k=normal(2, 5, 2, 3), v=normal(2, 5, 2, 3),
        bias=normal(2, 2, 4, 5), mask=rng.uniform(size=(2, 1, 4, 5)) < 0.7,
        x=normal(3, 5), kinks=np.array([-3.5, -3.0, -1.0, -0.5, 0.0, 1.0, 2.5, 3.0, 4.0],
                                       dtype=dtype),
        logits=normal(2, 6, 4), labels=np.array([[1, 2, 0], [3, 3, 1]], dtype="int32"),
        hsv=uniform(2, 3, 4, 3, low=0.05, high=0.95),
        coords=uniform(2, 3, 4, low=-1.0, high=6.0),
        pix=np.floor(uniform(2, 6, 5, 3, high=256.0)),
        dyadic=np.array([[0.75, -0.25, 0.5, 0.25, 1.25, -0.75, 0, 0],
                         [1.0, 0.0, -1.5, 0.0, 1.0, 2.25, 0, 0]], dtype=dtype),
        projective=np.array([[0.9, -0.2, 0.7, 0.25, 1.1, -0.4, 0.05, -0.03],
                             [1.0, 0.0, 0.6, 0.0, 1.0, -1.3, -0.02, 0.04]], dtype=dtype),
        start=np.array([[[0, 0], [4, 0], [0, 5], [4, 5]],
                        [[0.5, 0.2], [3.6, 0.1], [0.3, 4.8], [3.9, 5.2]]], dtype=dtype),
        end=np.array([[[0.4, 0.3], [3.7, 0.2], [0.2, 4.6], [4.1, 5.1]],
                      [[0, 0], [4, 0], [0, 5], [4, 5]]], dtype=dtype),
        transform=np.array([[0.9, -0.2, 0.7, 0.25, 1.1, -0.4, 0, 0],
                            [1.0, 0.0, 0.6, 0.0, 1.0, -1.3, 0, 0]], dtype=dtype),
        kg=normal(3, 2, 1, 6), kg1=normal(2, 1, 3),      # grouped: C/G = 1 channel a group
    )


CASES = {
    # -- convolutions (kernels in Keras' layouts) ----------------------------------------------
    "conv2d": lambda o, a: o.conv(a.img, a.k2),
    "conv2d_same_strided": lambda o, a: o.conv(a.img, a.k2, strides=2, padding="same"),
    "conv2d_dilated": lambda o, a: o.conv(a.img, a.k2, padding="same", dilation_rate=(2, 1)),
    "conv1d": lambda o, a: o.conv(a.seq, a.k1, strides=2),
    "conv3d": lambda o, a: o.conv(a.vol, a.k3, padding="same"),
    "conv2d_grouped": lambda o, a: o.conv(a.img, a.kg, padding="same"),      # 3 groups
    "conv1d_grouped": lambda o, a: o.conv(a.seq, a.kg1, strides=2),
    "conv_transpose2d": lambda o, a: o.conv_transpose(a.img, a.kt),
    "conv_transpose2d_same": lambda o, a: o.conv_transpose(a.img, a.kt, strides=(2, 3),
                                                           padding="same"),
    "conv_transpose2d_output_padding": lambda o, a: o.conv_transpose(
        a.img, a.kt, strides=2, output_padding=1),
    "conv_transpose1d": lambda o, a: o.conv_transpose(a.seq, a.kt1, strides=2, padding="same"),
    "depthwise_conv2d": lambda o, a: o.depthwise_conv(a.img, a.kd),
    "depthwise_conv2d_same": lambda o, a: o.depthwise_conv(a.img, a.kd, strides=2,
                                                           padding="same"),
    "depthwise_conv1d_dilated": lambda o, a: o.depthwise_conv(a.seq, a.kd1, dilation_rate=2),
    "separable_conv2d": lambda o, a: o.separable_conv(a.img, a.kd, a.kp, padding="same"),
    "unfold": lambda o, a: o.unfold(o.moveaxis(a.img, -1, 1), 2),
    "unfold_padded_dilated_strided": lambda o, a: o.unfold(
        o.moveaxis(a.img, -1, 1), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
    "fold": lambda o, a: o.fold(o.reshape(a.seq, (2, 3, 9)), (3, 5), (1, 3)),
    "fold_padded_dilated_strided": lambda o, a: o.fold(o.unfold(
        o.moveaxis(a.img, -1, 1), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), (6, 5),
        (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
    # -- pooling ------------------------------------------------------------------------------
    "max_pool2d": lambda o, a: o.max_pool(a.img, 2),
    "max_pool2d_same": lambda o, a: o.max_pool(a.img, 3, strides=2, padding="same"),
    "max_pool1d_overlap": lambda o, a: o.max_pool(a.seq, 3, strides=1),
    "average_pool2d": lambda o, a: o.average_pool(a.img, (2, 3), strides=1),
    "average_pool2d_same": lambda o, a: o.average_pool(a.img, 3, strides=2, padding="same"),
    # (Keras' TensorFlow adaptive pools read `inputs.shape.as_list()`: tensors, not arrays)
    "adaptive_average_pool2d": lambda o, a: o.adaptive_average_pool(
        o.convert_to_tensor(a.img), (4, 2)),
    "adaptive_max_pool2d": lambda o, a: o.adaptive_max_pool(o.convert_to_tensor(a.img), (3, 3)),
    "adaptive_average_pool1d": lambda o, a: o.adaptive_average_pool(o.convert_to_tensor(a.seq),
                                                                    4),
    # -- activations, attention, psnr, blocks ------------------------------------------------
    "hard_silu": lambda o, a: o.hard_silu(a.kinks),
    "hard_swish": lambda o, a: o.hard_swish(a.x),
    "sparse_sigmoid": lambda o, a: o.sparse_sigmoid(a.kinks),
    "psnr": lambda o, a: o.psnr(a.img, o.multiply(a.img, 0.9), 1.0),
    "space_to_depth": lambda o, a: o.space_to_depth(a.img[:, :4, :4], 2),
    "depth_to_space": lambda o, a: o.depth_to_space(o.reshape(a.kp, (1, 1, 6, 4)), 2),
    "attention": lambda o, a: o.dot_product_attention(a.q, a.k, a.v),
    "attention_mask_bias_scale": lambda o, a: o.dot_product_attention(
        a.q, a.k, a.v, bias=a.bias, mask=a.mask, scale=0.3),
    "attention_causal": lambda o, a: o.dot_product_attention(a.q, a.k[:, :4], a.v[:, :4],
                                                             is_causal=True),
    # -- images --------------------------------------------------------------------------------
    "resize_bilinear_up": lambda o, a: o.image.resize(a.img, (9, 7)),
    "resize_bilinear_down": lambda o, a: o.image.resize(a.img, (4, 2)),
    "resize_nearest": lambda o, a: o.image.resize(a.img, (8, 3), interpolation="nearest"),
    "resize_crop_to_aspect": lambda o, a: o.image.resize(a.img, (3, 4),
                                                         crop_to_aspect_ratio=True),
    "resize_pad_to_aspect": lambda o, a: o.image.resize(a.img[0], (4, 8),
                                                        pad_to_aspect_ratio=True, fill_value=0.5),
    "affine_bilinear_constant": lambda o, a: o.image.affine_transform(a.img, a.transform,
                                                                      fill_value=0.25),
    "affine_nearest_reflect": lambda o, a: o.image.affine_transform(
        a.img, a.transform, interpolation="nearest", fill_mode="reflect"),
    "affine_bilinear_wrap": lambda o, a: o.image.affine_transform(a.img[0], a.transform[0],
                                                                  fill_mode="wrap"),
    "affine_bilinear_reflect": lambda o, a: o.image.affine_transform(a.img, a.transform,
                                                                     fill_mode="reflect"),
    "affine_nearest_wrap": lambda o, a: o.image.affine_transform(
        a.img, a.transform, interpolation="nearest", fill_mode="wrap"),
    "affine_bilinear_reflect_dyadic": lambda o, a: o.image.affine_transform(
        a.pix, a.dyadic, fill_mode="reflect"),
    "affine_bilinear_nearest_dyadic": lambda o, a: o.image.affine_transform(
        a.pix, a.dyadic, fill_mode="nearest"),
    "resize_dyadic": lambda o, a: o.image.resize(a.pix, (12, 10)),
    "resize_dyadic_down": lambda o, a: o.image.resize(a.pix, (3, 5)),
    "affine_projective": lambda o, a: o.image.affine_transform(a.img, a.projective),
    "perspective_bilinear": lambda o, a: o.image.perspective_transform(
        a.img, a.start, a.end, fill_value=0.5),
    "perspective_nearest": lambda o, a: o.image.perspective_transform(
        a.img[0], a.start[0], a.end[0], interpolation="nearest"),
    "crop_images": lambda o, a: o.image.crop_images(a.img, 1, 2, target_height=3,
                                                    target_width=2),
    "crop_images_bottom_right": lambda o, a: o.image.crop_images(
        a.img[0], bottom_cropping=2, right_cropping=1, target_height=2, target_width=3),
    "pad_images": lambda o, a: o.image.pad_images(a.img, 1, 2, bottom_padding=0,
                                                  target_width=9),
    "rgb_to_grayscale": lambda o, a: o.image.rgb_to_grayscale(a.img),
    "rgb_to_hsv": lambda o, a: o.image.rgb_to_hsv(a.hsv),
    "hsv_to_rgb": lambda o, a: o.image.hsv_to_rgb(a.hsv),
    "map_coordinates_linear": lambda o, a: o.image.map_coordinates(a.x, a.coords[:, 0], 1),
    "map_coordinates_nearest_wrap": lambda o, a: o.image.map_coordinates(
        a.x, a.coords[:, 1], 0, fill_mode="wrap"),
    "map_coordinates_reflect": lambda o, a: o.image.map_coordinates(
        a.x, a.coords[:, 2], 1, fill_mode="reflect"),
    "extract_patches": lambda o, a: o.image.extract_patches(a.img, 2),
    "extract_patches_strided": lambda o, a: o.image.extract_patches(a.img[0], (3, 2),
                                                                    strides=1),
    "extract_patches_3d": lambda o, a: o.image.extract_patches_3d(a.vol, (2, 2, 3), strides=1),
    "gaussian_blur": lambda o, a: o.image.gaussian_blur(a.img),
    "gaussian_blur_sizes": lambda o, a: o.image.gaussian_blur(a.img[0], (3, 5), (0.8, 1.7)),
    "sobel_edges": lambda o, a: o.image.sobel_edges(a.img),
    "scale_and_translate_linear": lambda o, a: o.image.scale_and_translate(
        a.img, (2, 9, 4, 3), [1.7, 0.7], [0.3, -0.4], (1, 2), "linear"),
    "scale_and_translate_cubic": lambda o, a: o.image.scale_and_translate(
        a.img, (2, 4, 7, 3), [0.6, 1.4], [0.5, 0.0], (1, 2), "bicubic", antialias=False),
    "scale_and_translate_lanczos": lambda o, a: o.image.scale_and_translate(
        a.seq, (2, 5, 3), [0.5], [1.0], (1,), "lanczos3"),
    "ssim": lambda o, a: o.image.ssim(a.img, o.image.gaussian_blur(a.img), filter_size=3),
    "ssim_unbatched": lambda o, a: o.image.ssim(a.hsv[0], a.img[0, :3, :4], max_val=2.0,
                                                filter_size=3, filter_sigma=0.7),
    # -- control flow: the same code in both libraries ------------------------------------------
    "cond": lambda o, a: o.cond(o.sum(a.x) > 0, lambda: o.exp(a.x), lambda: o.sin(a.x)),
    "switch": lambda o, a: o.switch(7, [o.tanh, lambda x: x * x], a.x),
    "fori_loop": lambda o, a: o.fori_loop(0, 3, lambda i, y: o.sin(y) * a.x + i, a.x),
    "while_loop": lambda o, a: o.while_loop(lambda i, y: i < 3,
                                            lambda i, y: (i + 1, o.tanh(y) * a.x), (0, a.x))[1],
    "scan": lambda o, a: list(o.scan(lambda c, r: (c * r + 1.0, o.sin(c)), a.x[0], a.x[1:])),
    "scan_reverse": lambda o, a: list(o.scan(lambda c, r: (c + r * r, c), a.x[0], a.x,
                                             reverse=True)),
    "associative_scan_add": lambda o, a: o.associative_scan(o.add, a.x, axis=1),
    "associative_scan_reverse": lambda o, a: o.associative_scan(lambda u, w: u * w, a.x,
                                                                reverse=True),
    "map": lambda o, a: o.map(lambda r: o.sum(r * r), a.x),
    "vectorized_map": lambda o, a: o.vectorized_map(lambda r: o.softmax(r), a.x),
}

#: TensorFlow's 3-D pooling has no float64 kernel on the CPU: compared in float32 (and by
#: finite differences in float64 below).
FLOAT32_CASES = {
    "average_pool3d": lambda o, a: o.average_pool(a.vol, 2, padding="same"),
    "max_pool3d": lambda o, a: o.max_pool(a.vol, (2, 3, 2), strides=1),
    "adaptive_max_pool3d": lambda o, a: o.adaptive_max_pool(o.convert_to_tensor(a.vol),
                                                            (2, 3, 2)),
}

#: TensorFlow interpolates in float32 whatever the dtype (``ResizeBilinear`` and
#: ``ImageProjectiveTransformV3`` cast the pixels to float): with float64 inputs that are
#: not exact in float32 arithmetic these agree to float32 precision only (minired
#: interpolates in float64). The ``*_dyadic`` cases (integer pixels, dyadic scales and
#: transforms: exact arithmetic) check the same code to 1e-12.
FLOAT32_KERNELS = {"resize_bilinear_up", "resize_bilinear_down", "resize_crop_to_aspect",
                   "resize_pad_to_aspect", "affine_bilinear_constant", "affine_bilinear_wrap",
                   "affine_bilinear_reflect", "affine_projective", "perspective_bilinear",
                   # float32 Lanczos weights (Python-float scales), whose sin NumPy and
                   # TensorFlow round differently by an ulp
                   "scale_and_translate_lanczos"}

#: TensorFlow's ``ResizeBilinearGrad`` also computes in float32, even on exact inputs.
FLOAT32_GRADIENT_KERNELS = FLOAT32_KERNELS | {"resize_dyadic", "resize_dyadic_down"}

#: TensorFlow's float64 ``MaxPool`` (with oneDNN, the default) returns **float32** from its
#: second call on (measured: the first call gives float64): these cases compare values
#: only, exactly (the inputs are float32 numbers, so a maximum has nothing to round).
FLOAT32_DTYPE_IN_TENSORFLOW = {"max_pool2d", "max_pool2d_same", "max_pool1d_overlap",
                               "adaptive_max_pool2d"}

#: No TensorFlow gradient to compare with: ``ImageProjectiveTransformV3``'s registered
#: gradient warps δa with the inverse transform (an approximation of the adjoint, which
#: minired computes exactly: checked by finite differences), ``HSVToRGB`` has none.
NO_TENSORFLOW_GRADIENT = {name for name in CASES if name.startswith(("affine", "perspective"))
                          } | {"hsv_to_rgb"}

#: Keras 3.15's sparsemax computes τ from a sum of cumulative sums, so its outputs do not
#: sum to 1 once the support has two elements (keras-team/keras issue 23425, fixed in pull
#: request 23469); minired follows the paper and the fix: checked by its definition below.
SPARSEMAX_CASES = {
    "sparsemax": lambda o, a: o.sparsemax(a.x),
    "sparsemax_axis0": lambda o, a: o.sparsemax(a.x, axis=0),
}

#: ``vectorize`` is checked against ``np.vectorize`` (NumPy's semantics, which Keras follows):
#: Keras' TensorFlow ``vectorize`` raises "Not supported" as soon as it must map an axis
#: (its ``_vmap_fn`` accepts ``in_axes == 0`` only and is always given a tuple).
VECTORIZE_CASES = {
    "vectorize": lambda o, a: o.vectorize(lambda u, w: o.sin(u) * w + 1.0)(a.x, a.x[0]),
    "vectorize_signature": lambda o, a: o.vectorize(
        lambda u, w: o.sum(u * o.cos(w)), signature="(n),(n)->()")(a.x, a.x[1]),
    "vectorize_excluded": lambda o, a: o.vectorize(
        lambda u, p: o.power(u, p), excluded={1})(a.x, 2),
}

#: TensorFlow's ``ctc_loss`` computes in float32 even for float64 inputs (Keras casts them),
#: so these cases agree with Keras to float32 precision only; minired computes in float64.
CTC_CASES = {
    "ctc_loss": lambda o, a: o.ctc_loss(a.labels, a.logits, np.array([2, 3]), np.array([6, 6])),
    "ctc_loss_lengths_blank_last": lambda o, a: o.ctc_loss(
        np.array([[1, 2, 2], [0, 1, 1]]), a.logits, np.array([3, 1]), np.array([6, 4]),
        mask_index=3),
}


def _cases(name: str):
    return {**CASES, **CTC_CASES, **VECTORIZE_CASES, **FLOAT32_CASES, **SPARSEMAX_CASES}[name]


def _tolerance(name: str, dtype: str) -> float:
    if dtype == "float32":
        return 1e-5
    if name in CTC_CASES or name in FLOAT32_KERNELS:
        return 1e-6         # TensorFlow computes these in float32 (see above)
    return 1e-12


@pytest.mark.parametrize(("name", "dtype"), [
    *((name, dtype) for name in sorted({**CASES, **CTC_CASES}) for dtype in ("float64",
                                                                             "float32")),
    *((name, "float32") for name in sorted(FLOAT32_CASES))])
def test_values_match_keras(keras_env, name, dtype):  # noqa: F811
    a = case_inputs(dtype)
    with keras_env.precision(dtype):
        ours = _cases(name)(ops, a)
        theirs = _cases(name)(keras_env.keras.ops, a)
        compare(ours, theirs, _tolerance(name, dtype), dtype_too=dtype == "float32"
                or name not in FLOAT32_DTYPE_IN_TENSORFLOW)


def _float_names(a: SimpleNamespace) -> list[str]:
    return [n for n, v in vars(a).items() if np.asarray(v).dtype.kind == "f"]


def _outputs(result) -> list:
    return [r for r in (result if isinstance(result, list) else [result])
            if np.asarray(r).dtype.kind == "f"]


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_TENSORFLOW_GRADIENT | set(CTC_CASES)))
def test_gradients_match_tensorflow(keras_env, name):  # noqa: F811
    tf = keras_env.tf
    plain = case_inputs("float64")
    names = _float_names(plain)
    with keras_env.precision("float64"):
        rng = np.random.default_rng(0)
        upstream = [rng.standard_normal(np.shape(o)) for o in _outputs(_cases(name)(ops, plain))]
        with GradientTape() as tape:
            ours_in = SimpleNamespace(**vars(plain))
            for n in names:
                setattr(ours_in, n, tape.watch(getattr(plain, n)))
            ours_out = _outputs(_cases(name)(ops, ours_in))
        ours = tape.gradient(ours_out, [getattr(ours_in, n) for n in names],
                             output_gradient=upstream)
        theirs_in = SimpleNamespace(**vars(plain))
        for n in names:
            setattr(theirs_in, n, tf.constant(getattr(plain, n)))
        with tf.GradientTape() as tf_tape:
            tf_tape.watch([getattr(theirs_in, n) for n in names])
            theirs_out = _outputs(_cases(name)(keras_env.keras.ops, theirs_in))
        theirs = tf_tape.gradient(theirs_out, [getattr(theirs_in, n) for n in names],
                                  output_gradients=[tf.constant(u) for u in upstream])
    tolerance = 1e-6 if name in FLOAT32_GRADIENT_KERNELS else _tolerance(name, "float64")
    # float32 kernels: an absolute 1e-7 for gradients of about 0.1 (float32's ulp scale)
    atol = 1e-7 if tolerance > 1e-12 else 1e-14
    nonzero = 0
    for n, mine, their in zip(names, ours, theirs, strict=True):
        their = np.zeros(np.shape(getattr(plain, n))) if their is None else np.asarray(
            tf.convert_to_tensor(their))
        np.testing.assert_allclose(mine, their, rtol=tolerance, atol=atol, err_msg=n)
        nonzero += bool(np.any(their != 0))
    assert nonzero, "the case reaches no float input: nothing was compared"


#: The ``mr.ops`` names this file compares with Keras (for ``test_ops_keras``'s inventory).
OPS_COMPARED_WITH_KERAS = {
    "conv", "conv_transpose", "depthwise_conv", "separable_conv", "max_pool", "average_pool",
    "adaptive_average_pool", "adaptive_max_pool", "unfold", "fold", "hard_silu", "hard_swish",
    "sparse_sigmoid", "psnr", "space_to_depth", "depth_to_space", "dot_product_attention",
    "ctc_loss", "ctc_decode", "cond", "switch", "fori_loop", "while_loop", "scan",
    "associative_scan", "map", "vectorized_map", "image"}
#: ... and those it checks otherwise, with the reason.
OPS_NOT_COMPARED_WITH_KERAS = {
    "sparsemax": "Keras 3.15's formula is wrong (see SPARSEMAX_CASES): checked by definition",
    "vectorize": "Keras' TensorFlow vectorize cannot map an axis: checked against np.vectorize",
    "custom_gradient": "a decorator: checked on the tape and in fit (and comparisons/ops_catalog3)",
    "numpy": "a namespace: ops.numpy.sum is ops.sum",
}
#: The names whose gradients this file checks (for ``test_ops``' inventory).
OPS_GRADIENT_CHECKED = (OPS_COMPARED_WITH_KERAS | set(OPS_NOT_COMPARED_WITH_KERAS)) - {
    "ctc_decode", "image", "numpy"}


def test_the_inventories_name_mr_ops_functions():
    assert OPS_COMPARED_WITH_KERAS | set(OPS_NOT_COMPARED_WITH_KERAS) <= set(ops.__all__)


# -- finite differences: no reference library needed -----------------------------------------

FINITE_DIFFERENCE_CASES = ["conv2d_same_strided", "unfold_padded_dilated_strided",
                           "fold_padded_dilated_strided", "conv_transpose2d_same",
                           "depthwise_conv2d_same",
                           "separable_conv2d", "average_pool2d_same", "adaptive_average_pool2d",
                           "attention_mask_bias_scale", "resize_bilinear_down",
                           "affine_bilinear_constant", "affine_bilinear_reflect",
                           "hsv_to_rgb", "average_pool3d", "map_coordinates_linear", "scan",
                           "scale_and_translate_cubic", "ssim_unbatched",
                           "associative_scan_reverse", "vectorize", "vectorize_signature",
                           "sparsemax", "sparsemax_axis0",
                           "ctc_loss"]


@pytest.mark.parametrize("name", FINITE_DIFFERENCE_CASES)
def test_tape_gradients_match_finite_differences(name):
    """``Σ u ⊙ f(inputs)`` differentiated by the tape and by central differences, for every
    float input (the sample avoids the kinks of max, nearest and floor, where a difference
    quotient straddles a jump)."""
    plain = case_inputs("float64")
    rng = np.random.default_rng(1)
    upstream = [rng.standard_normal(np.shape(o)) for o in _outputs(_cases(name)(ops, plain))]
    names = [n for n in _float_names(plain) if n not in ("transform",)]
    with GradientTape() as tape:
        traced = SimpleNamespace(**vars(plain))
        for n in names:
            setattr(traced, n, tape.watch(getattr(plain, n)))
        outputs = _outputs(_cases(name)(ops, traced))
    grads = tape.gradient(outputs, [getattr(traced, n) for n in names], output_gradient=upstream)
    checked = 0
    for n, grad in zip(names, grads, strict=True):
        if not np.any(grad):
            continue

        def objective():
            return sum(float(np.sum(u * o))
                       for u, o in zip(upstream, _outputs(_cases(name)(ops, plain)), strict=True))

        numeric = gradcheck.numerical_gradient(objective, getattr(plain, n))
        assert gradcheck.relative_error(grad, numeric) < 1e-7, n
        checked += 1
    assert checked


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_is_the_projection_on_the_simplex(axis):
    """``a = max(x − τ, 0)`` sums to 1 along ``axis``, with at least one zero here."""
    x = case_inputs("float64").x
    a = ops.sparsemax(x, axis=axis)
    np.testing.assert_allclose(np.sum(a, axis=axis), 1.0, rtol=1e-14)
    tau = np.max(x - a, axis=axis, keepdims=True)             # x − a = τ on the support
    np.testing.assert_allclose(a, np.maximum(x - tau, 0), atol=1e-15)
    assert np.any(a == 0) and np.all(np.sum(a > 0, axis=axis) >= 1)


@pytest.mark.parametrize("name", sorted(VECTORIZE_CASES))
def test_vectorize_matches_numpy(name):
    a = case_inputs("float64")
    expected = VECTORIZE_CASES[name](SimpleNamespace(
        vectorize=np.vectorize, sin=np.sin, cos=np.cos, sum=np.sum, power=np.power), a)
    np.testing.assert_allclose(VECTORIZE_CASES[name](ops, a), expected, rtol=1e-15)


# -- by hand ----------------------------------------------------------------------------------

def test_conv_is_a_sum_over_windows():
    """``z[n, i, j, f] = Σ_{a, b, c} x[n, i + a, j + b, c] · W[a, b, c, f]``, loop by loop."""
    a = case_inputs("float64")
    z = ops.conv(a.img, a.k2)
    expected = np.zeros_like(z)
    for i in range(z.shape[1]):
        for j in range(z.shape[2]):
            window = a.img[:, i:i + 3, j:j + 2, :]
            expected[:, i, j] = np.einsum("nabc,abcf->nf", window, a.k2)
    np.testing.assert_allclose(z, expected, rtol=1e-13)


def test_ctc_decode_greedy_matches_keras(keras_env):  # noqa: F811
    a = case_inputs("float32")
    logits = a.logits.copy()
    logits[0, 1] = logits[0, 0]                     # a repeated best class to merge
    for merge in (True, False):
        for blank in (0, 2):
            ours = ops.ctc_decode(logits, [6, 4], merge_repeated=merge, mask_index=blank)
            theirs = keras_env.keras.ops.ctc_decode(logits, [6, 4], merge_repeated=merge,
                                                    mask_index=blank)
            compare(list(ours), list(theirs), 1e-6)


def test_stop_gradient_and_custom_gradient_on_the_tape():
    @ops.custom_gradient
    def scaled_square(x):
        def grad(upstream):
            return upstream * 10.0          # not 2x: the tape must use this
        return x * x, grad

    x0 = np.array([1.0, -2.0])
    with GradientTape() as tape:
        x = tape.watch(x0)
        y = ops.sum(scaled_square(x) + ops.stop_gradient(x) * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, x), [10.0, 10.0])


def test_control_flow_records_only_what_ran():
    x0 = np.array([0.5, -1.0])
    with GradientTape() as tape:
        x = tape.watch(x0)
        y = ops.cond(np.array(False), lambda: ops.exp(x), lambda: x * 3.0)
        assert len(tape.records) == 1                   # the multiply; no exp
        total = ops.sum(y)
    np.testing.assert_array_equal(tape.gradient(total, x), [3.0, 3.0])


def test_map_coordinates_mirror_is_scipys():
    """``"mirror"`` reflects about the edge pixels (``d c b | a b c d | c b a``), as SciPy
    and Keras' NumPy backend (Keras' TensorFlow backend reads past the end instead)."""
    out = ops.image.map_coordinates(np.arange(4.0), np.array([[-2, -1, 3, 4, 5, 7]]), 0,
                                    fill_mode="mirror")
    np.testing.assert_array_equal(out, [2.0, 1.0, 3.0, 2.0, 1.0, 1.0])


def test_errors_name_the_argument():
    a = case_inputs("float64")
    with pytest.raises(ValueError, match="channels_last"):
        ops.conv(a.img, a.k2, data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        ops.max_pool(a.img, 2, padding="full")
    with pytest.raises(ValueError, match="exactly two"):
        ops.image.crop_images(a.img, 1, 1)
    with pytest.raises(TypeError, match="grad_fn"):
        ops.custom_gradient(lambda x: x)(a.x)
    with pytest.raises(ValueError, match="Invalid strategy"):
        ops.ctc_decode(a.logits, [6, 6], strategy="beam")


# -- in a user's layer, trained by fit -------------------------------------------------------

@ops.custom_gradient
def _clip_gradient(x):
    """Identity forward; backward clips the gradient to [-0.1, 0.1]."""
    return x, lambda upstream: np.clip(upstream, -0.1, 0.1)


def _layer_class(lib):
    o = lib.ops

    class ConvScanLayer(lib.layers.Layer):
        """A 1-D convolution, a running sum over time with ``scan``, ``cond`` on the mode."""

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(2, input_shape[-1], 3),
                                          initializer="glorot_uniform")

        def call(self, x, training=None):
            z = o.conv(x, self.kernel, padding="same")
            steps = o.moveaxis(z, 1, 0)
            _, running = o.scan(lambda c, s: (c + s, c + s), o.zeros_like(steps[0]), steps)
            pooled = o.max_pool(o.moveaxis(running, 0, 1), 2)
            return o.cond(training is True, lambda: _clip_gradient(pooled), lambda: pooled)

    return ConvScanLayer


def test_custom_gradient_and_control_flow_train_in_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6, 2))
    y = rng.standard_normal((16, 6))
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((6, 2)), _layer_class(mr)(), mr.layers.Flatten(),
                           mr.layers.Dense(6)])
    model.compile(optimizer="sgd", loss="mse")
    kernel = model.layers[0].kernel
    before = np.array(kernel)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(np.array(kernel), before)            # gradients reached the conv
