"""torchvision.transforms.functional names; calling them raises (see package docstring)."""


def _unavailable(*args, **kwargs):
    raise NotImplementedError("torchvision functional transforms are not in the test shim")


resize = pad = crop = get_dimensions = to_tensor = center_crop = _unavailable
