"""A tiny random-weight llama-architecture GGUF for fast llama.cpp plumbing tests.

llama.cpp needs, for the ``llama`` architecture: context/embedding/feed-forward lengths,
block count, head counts, the RMS-norm epsilon, a tokenizer (here SentencePiece-style
``llama`` with byte-fallback tokens so any text tokenizes), and the token embedding,
output norm/head and per-block attention and feed-forward tensors. A 2-layer, 64-wide model
is ~0.5 MB and loads in milliseconds; its output is random text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Special "chat" markers as real control tokens, so tests can check that screen text
# containing them is tokenized as plain text.
CONTROL_TOKENS = ["<start_of_turn>", "<end_of_turn>"]


def write_tiny_gguf(path: Path, *, n_embd: int = 64, n_layer: int = 2, n_head: int = 4,
                    n_ff: int = 128, seed: int = 0, chat_template: str | None = None) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    words = ["▁" + w for w in "the a is was I you at on in error hotel answer memory".split()]
    tokens = (["<unk>", "<s>", "</s>"] + CONTROL_TOKENS + [f"<0x{i:02X}>" for i in range(256)]
              + ["▁"] + list("abcdefghijklmnopqrstuvwxyz0123456789[].,") + words)
    types = [2, 3, 3] + [3] * len(CONTROL_TOKENS) + [6] * 256
    types += [1] * (len(tokens) - len(types))
    writer.add_context_length(1024)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_file_type(0)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    writer.add_tensor("token_embd.weight", weights(len(tokens), n_embd))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    writer.add_tensor("output.weight", weights(len(tokens), n_embd))
    for i in range(n_layer):
        p = f"blk.{i}."
        writer.add_tensor(p + "attn_norm.weight", np.ones(n_embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(p + name + ".weight", weights(n_embd, n_embd))
        writer.add_tensor(p + "ffn_norm.weight", np.ones(n_embd, np.float32))
        writer.add_tensor(p + "ffn_gate.weight", weights(n_ff, n_embd))
        writer.add_tensor(p + "ffn_up.weight", weights(n_ff, n_embd))
        writer.add_tensor(p + "ffn_down.weight", weights(n_embd, n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


class ScriptedLlm:
    """An Llm whose replies are given by the test (for our post-processing logic only;
    llama.cpp itself is exercised with the tiny GGUF and the real Gemma)."""

    name = "scripted"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[list] = []
        self.closed = False

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def chat_prompt(self, system, user):
        from core.llm import TEMPLATES

        return TEMPLATES["chatml"].build(system, user)

    def generate(self, prompt, *, max_tokens, on_token=None, cancelled=None):
        from core.llm import Generation

        self.prompts.append(list(prompt))
        text = self.replies.pop(0)
        for word in text.split(" "):
            if cancelled is not None and cancelled():
                from core.errors import Cancelled

                raise Cancelled("cancelled")
            if on_token is not None:
                on_token(word + " ")
        return Generation(text=text, tokens=len(text.split()), prompt_tokens=10,
                          seconds_to_first_token=0.0, seconds=0.0, stopped="stop")

    def close(self) -> None:
        self.closed = True
