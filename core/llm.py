"""Local language models (llama.cpp through llama-cpp-python) behind the ``Llm`` protocol.

A prompt is a list of :class:`PromptPart` s. Only parts marked ``trusted`` (our own system
text and the chat template's markers) are tokenized with special tokens enabled; captured
text and the user's question are tokenized as plain text, so a screen that shows
``<start_of_turn>`` or ``<|im_start|>`` can never open a new turn (SECURITY.md R11, A8).

The chat template is chosen from the GGUF metadata (:func:`detect_template`): Gemma,
ChatML (Qwen), Llama 3, or a plain instruction layout for models with none.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import Cancelled, ModelError

_log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class PromptPart:
    text: str
    trusted: bool = False


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: int
    prompt_tokens: int
    seconds_to_first_token: float | None
    seconds: float
    stopped: str  # "stop" | "length"


class Llm(Protocol):
    """A local text generator. Implementations are not thread-safe; ChatService serialises."""

    name: str

    def count_tokens(self, text: str) -> int: ...

    def chat_prompt(self, system: str, user: Sequence[PromptPart]) -> list[PromptPart]: ...

    def generate(self, prompt: Sequence[PromptPart], *, max_tokens: int,
                 on_token: Callable[[str], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> Generation: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ChatTemplate:
    name: str
    system_open: str  # "" when the template folds the system text into the user turn
    system_close: str
    user_open: str
    user_close: str
    assistant_open: str
    stops: tuple[str, ...]

    def build(self, system: str, user: Sequence[PromptPart]) -> list[PromptPart]:
        parts: list[PromptPart] = []
        if self.system_open:
            parts += [PromptPart(self.system_open, True), PromptPart(system, True),
                      PromptPart(self.system_close, True), PromptPart(self.user_open, True)]
        else:
            parts += [PromptPart(self.user_open, True), PromptPart(system + "\n\n", True)]
        parts += list(user)
        parts += [PromptPart(self.user_close, True), PromptPart(self.assistant_open, True)]
        return parts


TEMPLATES = {
    "gemma": ChatTemplate("gemma", "", "", "<start_of_turn>user\n", "<end_of_turn>\n",
                          "<start_of_turn>model\n", ("<end_of_turn>", "<start_of_turn>")),
    "chatml": ChatTemplate("chatml", "<|im_start|>system\n", "<|im_end|>\n",
                           "<|im_start|>user\n", "<|im_end|>\n", "<|im_start|>assistant\n",
                           ("<|im_end|>", "<|im_start|>")),
    "llama3": ChatTemplate("llama3", "<|start_header_id|>system<|end_header_id|>\n\n",
                           "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\n",
                           "<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n",
                           ("<|eot_id|>", "<|start_header_id|>")),
    # Base (not instruction-tuned) models, e.g. the embedded Gemma 3 270M: a completion
    # layout that ends in "Answer:" and stops at the end of the line.
    "plain": ChatTemplate("plain", "", "", "", "\n", "Answer:", ("\n",)),
}


def detect_template(metadata: dict[str, str]) -> ChatTemplate:
    """The chat layout of a GGUF model, from its chat template (none: a base model)."""
    template = metadata.get("tokenizer.chat_template", "")
    if "<start_of_turn>" in template:
        return TEMPLATES["gemma"]
    if "<|im_start|>" in template:
        return TEMPLATES["chatml"]
    if "<|start_header_id|>" in template:
        return TEMPLATES["llama3"]
    return TEMPLATES["plain"]


def check_gguf(path: Path) -> None:
    """Raise ModelError unless ``path`` is a readable GGUF file."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError as exc:
        raise ModelError(f"model file not found: {path}") from exc
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file")


def default_threads() -> int:
    return max(1, min(8, (os.cpu_count() or 2)))


class LlamaCppLlm:
    """A GGUF model run by llama.cpp. Load with :meth:`load` (slow; off the UI thread)."""

    def __init__(self, llama: Any, name: str, template: ChatTemplate) -> None:
        self._llama = llama
        self.name = name
        self.template = template
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path, *, name: str | None = None, n_ctx: int = 4096,
             n_threads: int | None = None, seed: int = 0) -> LlamaCppLlm:
        check_gguf(path)
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - the llm extra is not installed
            raise ModelError("llama-cpp-python is not installed (pip install "
                             "'afterimage[llm]')") from exc
        try:
            llama = Llama(model_path=str(path), n_ctx=n_ctx,
                          n_threads=n_threads or default_threads(), seed=seed,
                          verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"the model {path.name} failed to load ({type(exc).__name__})") \
                from exc
        meta = {str(k): str(v) for k, v in (llama.metadata or {}).items()}
        return cls(llama, name or path.name, detect_template(meta))

    @property
    def n_ctx(self) -> int:
        return int(self._llama.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def chat_prompt(self, system: str, user: Sequence[PromptPart]) -> list[PromptPart]:
        return self.template.build(system, user)

    def tokenize_prompt(self, prompt: Sequence[PromptPart]) -> list[int]:
        tokens: list[int] = []
        bos = int(self._llama.token_bos())
        if bos >= 0:
            tokens.append(bos)
        for part in prompt:
            if part.text:
                tokens += self._llama.tokenize(part.text.encode("utf-8"), add_bos=False,
                                               special=part.trusted)
        return tokens

    def generate(self, prompt: Sequence[PromptPart], *, max_tokens: int,
                 on_token: Callable[[str], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> Generation:
        with self._lock:
            tokens = self.tokenize_prompt(prompt)
            room = self.n_ctx - len(tokens) - 1
            if room < 1:
                raise ModelError("the question and its evidence do not fit the model's context")
            start = time.perf_counter()
            first: float | None = None
            pieces: list[str] = []
            finish = "stop"
            sampled = [0]

            def count(_ids: Any, logits: Any) -> Any:
                sampled[0] += 1  # called once per sampled token
                return logits

            try:
                from llama_cpp import LogitsProcessorList

                stream = self._llama.create_completion(
                    prompt=tokens, max_tokens=min(max_tokens, room), temperature=0.0,
                    top_k=1, repeat_penalty=1.1, stop=list(self.template.stops), stream=True,
                    logits_processor=LogitsProcessorList([count]))
                for chunk in stream:
                    if cancelled is not None and cancelled():
                        stream.close()
                        raise Cancelled("the answer was cancelled")
                    choice = chunk["choices"][0]
                    piece = str(choice.get("text") or "")
                    if piece:
                        if first is None:
                            first = time.perf_counter() - start
                        pieces.append(piece)
                        if on_token is not None:
                            on_token(piece)
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
            except (RuntimeError, ValueError) as exc:
                raise ModelError(f"the model failed while answering ({type(exc).__name__})") \
                    from exc
            return Generation(text="".join(pieces), tokens=sampled[0],
                              prompt_tokens=len(tokens),
                              seconds_to_first_token=first,
                              seconds=time.perf_counter() - start, stopped=finish)

    def close(self) -> None:
        with self._lock:
            closer = getattr(self._llama, "close", None)
            if closer is not None:
                closer()
