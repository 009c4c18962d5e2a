"""The real open_clip model code behind OpenClipImageEncoder (pretrained=None weights).

Run by ``bash scripts/test-image-encoder.sh`` in the image venv (torch CPU +
open-clip-torch); not collected by the main suite (see conftest.py here).
"""

import numpy as np
import open_clip
import torch
from PIL import Image, ImageDraw

from core.retrieval.encoders import CLIP_MEAN, CLIP_STD, OpenClipImageEncoder, clip_preprocess


def screens():
    out = []
    for colour, text in (("white", "budget spreadsheet"), ("black", "terminal error"),
                         ("navy", "video call")):
        img = Image.new("RGB", (640, 400), colour)
        ImageDraw.Draw(img).text((20, 20), text, fill="red")
        out.append(img)
    return out


def test_preprocess_matches_clip_eval_transform_math():
    img = Image.new("RGB", (300, 200), (255, 0, 0))
    arr = clip_preprocess(img, 224)
    assert arr.shape == (3, 224, 224)
    expect = [(1 - CLIP_MEAN[0]) / CLIP_STD[0], (0 - CLIP_MEAN[1]) / CLIP_STD[1]]
    assert np.allclose(arr[0, 112, 112], expect[0], atol=1e-3)
    assert np.allclose(arr[1, 112, 112], expect[1], atol=1e-3)


def test_real_open_clip_model_encodes_images_and_texts(tmp_path):
    torch.manual_seed(0)
    enc = OpenClipImageEncoder("ViT-B-32", None, threads=2)
    imgs = enc.embed_images(screens())
    txt = enc.embed_texts(["a spreadsheet", "an error in a terminal"])
    assert enc.dim == 512 and imgs.shape == (3, 512) and txt.shape == (2, 512)
    assert np.allclose(np.linalg.norm(imgs, axis=1), 1, atol=1e-4)
    assert not np.allclose(imgs[0], imgs[1])  # different screens, different vectors
    # Weights load from a local file (what the model manager downloads): same outputs.
    path = tmp_path / "vit-b-32.pt"
    torch.save(enc._model.state_dict(), path)
    again = OpenClipImageEncoder("ViT-B-32", path, threads=2)
    assert np.allclose(again.embed_images(screens()), imgs, atol=1e-5)
    # ... and are really used: a model from other random weights disagrees.
    torch.manual_seed(1)
    other = OpenClipImageEncoder("ViT-B-32", None, threads=2)
    assert not np.allclose(other.embed_images(screens()), imgs, atol=1e-3)
    # the same code path open_clip users call
    assert open_clip.get_tokenizer("ViT-B-32")(["x"]).shape == (1, 77)
