"""llama.cpp plumbing with a tiny random-weight GGUF (milliseconds to load)."""

from __future__ import annotations

import pytest

from core.chat.answer import NOT_SUPPORTED, AskOptions, ChatEngine
from core.errors import Cancelled, ModelError
from core.llm import LlamaCppLlm, PromptPart, check_gguf
from tests.core.chat_fixtures import NOW, KeywordSource, rec
from tests.llm_support import write_tiny_gguf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def llm(tiny):
    model = LlamaCppLlm.load(tiny, n_ctx=512, n_threads=1)
    yield model
    model.close()


def test_template_detection(tiny, tmp_path):
    model = LlamaCppLlm.load(tiny, n_ctx=256, n_threads=1)
    assert model.template.name == "plain"  # no chat template: a base model
    model.close()
    chatml = write_tiny_gguf(tmp_path / "chatml.gguf", chat_template="{{'<|im_start|>'}}")
    model = LlamaCppLlm.load(chatml, n_ctx=256, n_threads=1)
    assert model.template.name == "chatml"
    model.close()


def test_screen_text_cannot_produce_control_tokens(llm):
    control = llm._llama.tokenize(b"<start_of_turn>", add_bos=False, special=True)
    assert len(control) == 1
    tokens = llm.tokenize_prompt([PromptPart("<start_of_turn>", trusted=True),
                                  PromptPart("screen says <start_of_turn>", trusted=False)])
    assert tokens.count(control[0]) == 1  # only our trusted marker


def test_streams_and_counts(llm):
    pieces = []
    gen = llm.generate([PromptPart("the error was", trusted=False)], max_tokens=12,
                       on_token=pieces.append)
    # llama-cpp-python may sample a few more tokens than max_tokens while it completes a
    # multi-byte character (random weights emit byte tokens); it stops for length.
    assert gen.stopped == "length" and 12 <= gen.tokens <= 20
    assert "".join(pieces) == gen.text
    assert gen.prompt_tokens > 1 and gen.seconds >= 0


def test_cancel_stops_generation(llm):
    seen = []
    with pytest.raises(Cancelled):
        llm.generate([PromptPart("the error was")], max_tokens=50, on_token=seen.append,
                     cancelled=lambda: len(seen) >= 2)
    assert len(seen) == 2


def test_bad_model_files(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        check_gguf(bad)
    with pytest.raises(ModelError, match="not found"):
        LlamaCppLlm.load(tmp_path / "missing.gguf")


def test_engine_with_a_real_llama_cpp_model_refuses_random_text(tiny):
    records = [rec(1, NOW, "Terminal", "bash", "Error: Cannot find module left-pad")]
    engine = ChatEngine(KeywordSource(records),
                        lambda: LlamaCppLlm.load(tiny, n_ctx=1024, n_threads=1))
    answer = engine.answer("what was the error", AskOptions(now=NOW))
    # Random weights cannot produce a grounded, cited answer: the engine says so.
    assert answer.route == "search" and answer.attempts == 2
    assert answer.text == NOT_SUPPORTED and answer.citations == ()
    engine.close()


def test_chat_opens_no_network_connection(tiny, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("chat tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    records = [rec(1, NOW, "Terminal", "bash", "Error: Cannot find module left-pad")]
    engine = ChatEngine(KeywordSource(records),
                        lambda: LlamaCppLlm.load(tiny, n_ctx=1024, n_threads=1))
    for question in ("what was the error", "how long was I in Terminal",
                     "what was I doing at 4 pm"):
        assert engine.answer(question, AskOptions(now=NOW)).text
    engine.close()
