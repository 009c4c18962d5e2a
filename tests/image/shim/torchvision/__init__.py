"""Import-only stand-in for torchvision, for the image-encoder test venv ONLY.

The machine's CPU torch 2.13.0 wheel has no matching torchvision (PyPI's 0.28.0 is built
against the CUDA torch and fails at import: "operator torchvision::nms does not exist").
open_clip imports a few torchvision names at module import; Afterimage never calls them
(it preprocesses images itself, see core.retrieval.encoders.clip_preprocess). This
package provides those names so the *real* open_clip model code can run in CI; any
call into a transform raises. Real installs get real torchvision with open-clip-torch.
"""

__version__ = "0.0-afterimage-test-shim"
