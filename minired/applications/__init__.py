"""Ready-made image classifiers, as ``keras.applications``: VGG, ResNet, DenseNet, ...

Each function builds a functional :class:`~minired.Model` with Keras' layer names, so
``weights="imagenet"`` loads Keras' pretrained file from Keras' cache (minired never
downloads) and a ``.keras`` file written by either library loads in the other. Each family
also is a submodule with its ``preprocess_input`` and ``decode_predictions``, as in Keras
(``minired.applications.resnet50.preprocess_input``).
"""
# ruff: noqa: I001  (three helpers add their families in marked groups; keep the groups)

from minired.applications import imagenet_utils
# -- part 1 (VGG, ResNet, DenseNet) --
from minired.applications import densenet, resnet, resnet50, resnet_v2, vgg16, vgg19
from minired.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from minired.applications.resnet import ResNet50, ResNet101, ResNet152
from minired.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from minired.applications.vgg16 import VGG16
from minired.applications.vgg19 import VGG19

# -- end part 1 --
# -- part 2 (MobileNet, MobileNetV2, MobileNetV3, Xception, InceptionV3, InceptionResNetV2):
#    one import line per module below, and the names into __all__ at the end --
from minired.applications import (inception_resnet_v2, inception_v3, mobilenet, mobilenet_v2,
                                  mobilenet_v3, xception)
from minired.applications.inception_resnet_v2 import InceptionResNetV2
from minired.applications.inception_v3 import InceptionV3
from minired.applications.mobilenet import MobileNet
from minired.applications.mobilenet_v2 import MobileNetV2
from minired.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from minired.applications.xception import Xception
# -- end part 2 --
# -- part 3 (EfficientNet, EfficientNetV2, ConvNeXt, NASNet):
#    one import line per module below, and the names into __all__ at the end --
from minired.applications import convnext, efficientnet, efficientnet_v2, nasnet
from minired.applications.convnext import (ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall,
                                           ConvNeXtTiny, ConvNeXtXLarge)
from minired.applications.efficientnet import (EfficientNetB0, EfficientNetB1, EfficientNetB2,
                                               EfficientNetB3, EfficientNetB4, EfficientNetB5,
                                               EfficientNetB6, EfficientNetB7)
from minired.applications.efficientnet_v2 import (EfficientNetV2B0, EfficientNetV2B1,
                                                  EfficientNetV2B2, EfficientNetV2B3,
                                                  EfficientNetV2L, EfficientNetV2M,
                                                  EfficientNetV2S)
from minired.applications.nasnet import NASNetLarge, NASNetMobile
# -- end part 3 --

__all__ = ["imagenet_utils"]
# -- part 1 __all__ --
__all__ += ["densenet", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19",
            "DenseNet121", "DenseNet169", "DenseNet201", "ResNet50", "ResNet101", "ResNet152",
            "ResNet50V2", "ResNet101V2", "ResNet152V2", "VGG16", "VGG19"]
# -- part 2 __all__ (add a line: __all__ += [...]) --
__all__ += ["inception_resnet_v2", "inception_v3", "mobilenet", "mobilenet_v2", "mobilenet_v3",
            "xception", "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2",
            "MobileNetV3Large", "MobileNetV3Small", "Xception"]
# -- part 3 __all__ (add a line: __all__ += [...]) --
__all__ += ["convnext", "efficientnet", "efficientnet_v2", "nasnet",
            "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
            "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
            "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
            "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
            "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L",
            "NASNetMobile", "NASNetLarge"]
