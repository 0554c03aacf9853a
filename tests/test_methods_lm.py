"""The language-model path, proven offline: a tiny random causal LM built here, saved, and run through --model."""

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    """A 2-layer GPT-2 with random weights and a word-level tokenizer trained on the experiments' own sentences:
    nothing is downloaded."""
    from kb.methods import data

    folder = tmp_path_factory.mktemp("models") / "tiny-gpt2"
    texts = (
        data.comparisons(300).text
        + data.comparisons(300, negated=True, seed=1).text
        + data.cities().text
        + data.cities(negated=True, seed=1).text
    )
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, tokenizers.trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    fast.save_pretrained(folder)
    config = transformers.GPT2Config(
        vocab_size=tok.get_vocab_size(), n_layer=2, n_embd=32, n_head=2, n_positions=64, pad_token_id=1
    )
    import torch

    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def test_an_experiment_runs_on_a_local_causal_lm_with_last_token_pooling(kb, tiny_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))  # activations of a throwaway model stay in tmp
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    results = tmp_path / "results"
    result = kb(
        "methods",
        "run",
        "probes-vs-lat",
        "--model",
        str(tiny_lm),
        "--layer",
        "2",
        "--pooling",
        "last",
        "--quick",
        "--seeds",
        "0,1",
        "--results",
        str(results),
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads((results / "probes-vs-lat" / "result.json").read_text())
    run = record["run"]
    assert (run["model"], run["layer"], run["pooling"]) == ("tiny-gpt2", 2, "last")
    assert "is a causal language model" in run["model_note"] and "GPT2LMHeadModel" in run["model_note"]
    assert run["seed_values"] == [0, 1]
    for claim in record["claims"]:  # every verdict names where it was found
        assert claim["setting"] == {"model": "tiny-gpt2", "layer": 2, "pooling": "last"}
        assert claim["evidence"].endswith("[tiny-gpt2, layer 2, last pooling]")
        assert claim["verdict"] in ("reproduced", "not reproduced", "inconclusive", "not testable") and claim["rule"]
    aurocs = [r for r in record["tables"]["auroc"] if r["setting"] == "comparisons"]
    assert {r["method"] for r in aurocs} >= {"LR", "mass-mean (iid)", "LAT (paired)", "CCS"}
    assert all(0 <= r["iid_mean"] <= 1 for r in aurocs)
    assert list((tmp_path / "cache").rglob("*.npz"))  # the activations were cached where asked


def test_last_token_pooling_reads_the_last_real_token_whatever_the_padding(tiny_lm, tmp_path):
    import numpy as np

    from kb.methods.models import Encoder

    enc = Encoder(tiny_lm, layer=2, pooling="last", cache=None)
    short, long = "The city of Paris is in France.", "Fifty-one is not larger than fifty-two and the city is in Peru."
    together = enc.encode([short, long])
    alone = enc.encode([short])
    assert np.allclose(together[0], alone[0], atol=1e-5)  # padding the short text changed nothing


def test_each_text_is_encoded_once_per_model_layer_and_pooling(tiny_lm, tmp_path):
    import numpy as np

    from kb.methods.models import Encoder

    seen = []
    enc = Encoder(tiny_lm, layer=1, pooling="last", cache=tmp_path)
    batch = enc._batch
    enc._batch = lambda texts: seen.extend(texts) or batch(texts)
    texts = ["The city of Paris is in France.", "Fifty-one is larger than two.", "The city of Lima is in Peru."]
    first = enc.encode(texts[:2])
    again = Encoder(tiny_lm, layer=1, pooling="last", cache=tmp_path)  # a new process would read the file
    again._batch = lambda t: seen.extend(t) or batch(t)
    both = again.encode(texts[1:] + texts[:1])
    assert sorted(seen) == sorted(texts)  # the third text only, the second time
    assert np.allclose(both[2], first[0], atol=1e-6) and np.allclose(both[0], first[1], atol=1e-6)
    other = Encoder(tiny_lm, layer=2, pooling="last", cache=tmp_path)
    assert not np.allclose(other.encode(texts[:1]), first[:1])  # another layer is another store
