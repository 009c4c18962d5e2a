"""Names open_clip.transform imports; using any of them raises (see package docstring)."""

import enum


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


class _Unavailable:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("torchvision transforms are not available in the test shim")


class Normalize(_Unavailable):
    pass


class Compose(_Unavailable):
    pass


class RandomResizedCrop(_Unavailable):
    pass


class ToTensor(_Unavailable):
    pass


class Resize(_Unavailable):
    pass


class CenterCrop(_Unavailable):
    pass


class ColorJitter(_Unavailable):
    pass


class Grayscale(_Unavailable):
    pass
