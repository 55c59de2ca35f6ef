"""``emotion-book score``: per-token reads equal transformers' hidden states (here and through the
NDIF simulation); a short transcript end to end through the CLI (HTML + JSON, their schema);
``--top`` prints one line per record in order; bad input gives one clear line and exit 1 before
any model loads; the chapters' figure functions draw.

The vectors are built from four emotions' texts with 16 neutral dialogues (the activation cache
is shared, so a second run skips the corpus read)."""

from __future__ import annotations

import json

import pytest
import torch

from emotion_concepts.book import cli, score
from emotion_concepts.findings.emotion_vectors import settled_vectors
from emotion_concepts.readout.tokens import token_residuals, tokens_in_span

QUICK = ["happy", "sad", "calm", "afraid"]
VECTOR_ARGS = ["--vectors-from", *QUICK, "--n-neutral", "16"]
TRANSCRIPT = [{"role": "user", "content": "My dog went missing three days ago and I can't sleep. Can you help?"},
              {"role": "assistant", "content": "I'm so sorry. Let's write a clear poster with her photo."}]


@pytest.fixture(scope="module")
def vectors(model_bf16):
    return settled_vectors(model_bf16, emotions=QUICK, n_neutral=16)


@pytest.fixture()
def no_reload(model_bf16, monkeypatch):
    """The CLI runs end to end but reuses the session's model instead of loading it again."""
    import emotion_concepts.models.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda *a, **k: model_bf16)


def _main(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------- per-token reads


def test_token_reads_match_transformers_and_the_simulation(model, isolated_cache):
    from emotion_concepts.models import simulated

    texts = ["I am feeling happy today.", model.chat("Hello there. Is it raining where you are?"), "No."]
    reads = token_residuals(model, texts, [3, 20], batch_size=2)
    for r in reads:
        enc = model.tokenizer(r.text, return_tensors="pt", add_special_tokens=not r.text.startswith("<|im_start|>"))
        assert enc["input_ids"][0].tolist() == r.token_ids
        with torch.no_grad():
            hidden = model.torch_module(**enc, output_hidden_states=True).hidden_states
        for layer in (3, 20):
            torch.testing.assert_close(r.residuals[layer], hidden[layer + 1][0], atol=1e-4, rtol=1e-4)
        assert "".join(r.pieces) == r.text
    remote = token_residuals(simulated(model), texts, [20], batch_size=2, cache=False)
    for a, b in zip(reads, remote, strict=True):
        torch.testing.assert_close(a.residuals[20], b.residuals[20], atol=1e-5, rtol=0)


def test_tokens_in_span_picks_overlapping_tokens():
    spans = [(0, 2), (2, 5), (5, 5), (5, 9)]
    assert tokens_in_span(spans, 3, 6) == [1, 3]
    assert tokens_in_span(spans, 9, 12) == []


# ---------------------------------------------------------------- end to end


def test_transcript_end_to_end(tmp_path, capsys, no_reload, vectors):
    path = tmp_path / "talk.json"
    path.write_text(json.dumps(TRANSCRIPT))
    code, out, err = _main(["score", str(path), *VECTOR_ARGS, "--emotions", "sad", "calm"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "talk.scores.json").read_text())
    assert doc["schema"] == score.SCHEMA and doc["emotions"] == sorted(QUICK) and doc["shown"] == ["sad", "calm"]
    assert doc["reference"]["kind"] == "neutral" and doc["reference"]["description"]
    assert doc["layer"] == vectors.layer and doc["model"] == "smollm2-135m-instruct"
    tokens = doc["tokens"]
    assert [t["index"] for t in tokens] == list(range(len(tokens)))
    assert tokens[0]["scores"] is None
    assert all(len(t["scores"]) == len(QUICK) and all(isinstance(v, float) for v in t["scores"]) for t in tokens[1:])
    assert {"user", "assistant"} <= {t["role"] for t in tokens}
    user_text = "".join(t["text"] for t in tokens if t["role"] == "user")
    assert user_text == TRANSCRIPT[0]["content"]
    assert set(doc["mean"]) == set(QUICK)
    page = (tmp_path / "talk.scores.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page and "http" not in page.split("<body>")[1]
    data = json.loads(page.split('id="data">')[1].split("</script>")[0])
    assert data["emotions"] == ["sad", "calm"] and len(data["scores"]) == len(tokens)
    assert "wrote" in out and "talk.scores.html" in out


def test_plain_text_scores_match_the_python_api(tmp_path, capsys, no_reload, model_bf16, vectors):
    path = tmp_path / "note.txt"
    path.write_text("The letter said the job was mine. I read it three times and laughed out loud.")
    code, _, err = _main(["score", str(path), *VECTOR_ARGS, "--reference", "own", "--out", str(tmp_path / "x")],
                         capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "x.json").read_text())
    ts = score.score_tokens(model_bf16, vectors, path.read_text(), reference="own")
    assert doc["reference"]["kind"] == "own_tokens"
    got = torch.tensor([t["scores"] for t in doc["tokens"][1:]])
    torch.testing.assert_close(got, torch.tensor(ts.scores[1:], dtype=torch.float32), atol=1e-4, rtol=0)
    # own reference: the scored tokens' residuals are centred on their mean
    assert "".join(t["text"] for t in doc["tokens"]) == path.read_text()


def test_top_prints_one_line_per_record_in_order(tmp_path, capsys, no_reload):
    path = tmp_path / "texts.jsonl"
    texts = ["We won the final and everyone was dancing in the street.", "The funeral was small and quiet.",
             "He heard the footsteps behind him get closer in the dark."]
    path.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(texts)))
    code, out, err = _main(["score", str(path), *VECTOR_ARGS, "--top", "2"], capsys)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["index"] for x in lines] == [0, 1, 2]
    for x in lines:
        assert len(x["top"]) == 2 and all(e in QUICK for e, _ in x["top"]) and x["top"][0][1] >= x["top"][1][1]
    assert "reference: own_records" in err or "reference:" in err


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("name, content, extra, message", [
    ("missing.txt", None, [], "no such file"),
    ("bad.json", '[{"role": "user", "content": "hi"', [], "malformed JSON"),
    ("bad.jsonl", '{"role": "user", "content": "hi"}\n{oops}\n', [], "bad.jsonl:2: malformed JSON"),
    ("empty.txt", "   \n", [], "no text to score"),
    ("blank.json", '[{"role": "user", "content": ""}]', [], "no text to score"),
    ("roles.json", '[{"role": "narrator", "content": "hi"}]', [], "role 'narrator'"),
    ("ok.txt", "Some text.", ["--emotions", "hapy"], "unknown emotion 'hapy' (did you mean 'happy'?)"),
    ("ok.txt", "Some text.", ["--vectors-from", "happy", "sad", "--emotions", "calm"], "not among the emotions"),
    ("texts.jsonl", '{"text": "fine"}\n{"text": ""}\n', ["--top", "3"], "texts.jsonl:2: empty text"),
    ("texts.jsonl", '{"body": "fine"}\n', ["--top", "3"], "a \"text\" string"),
    ("texts.jsonl", '{"text": "fine"}\n', ["--top", "0"], "--top must be at least 1"),
])
def test_bad_input_gives_one_clear_line(tmp_path, capsys, monkeypatch, name, content, extra, message):
    import emotion_concepts.models.loading as loading

    def refuse(*a, **k):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr(loading, "load_model", refuse)
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code, out, err = _main(["score", str(path), *extra], capsys)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err, err


def test_own_reference_needs_several_records(model_bf16, vectors):
    from emotion_concepts.errors import DataError

    with pytest.raises(DataError, match="at least 2"):
        score.top_emotions(model_bf16, vectors, ["Only one text here."], 2, reference="own")


# ---------------------------------------------------------------- figures


def test_figures_draw(model_bf16, vectors):
    import matplotlib

    matplotlib.use("Agg")
    ts = score.score_tokens(model_bf16, vectors, "She opened the results and burst into tears of relief.")
    fig = score.token_heatmap(ts, ["happy", "sad"], tokens=range(2, 8))
    assert len(fig.axes[0].get_xticklabels()) == 6 and len(fig.axes[0].get_yticklabels()) == 2
    fig2 = score.text_highlight(ts, "sad", width=30)
    assert fig2.axes[0].texts
    with pytest.raises(Exception, match="no vector for emotion"):
        ts.column("proud")
