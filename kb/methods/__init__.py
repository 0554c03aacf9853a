"""Reference implementations of the techniques the catalogue tracks, run on demo models on a CPU.

Estimators follow scikit-learn's conventions: hyper-parameters in __init__, fit(X, y) returns self,
learned state ends in `_`, decision_function, score. Each docstring cites the catalogue works it
implements by id, and data/taxonomy.toml names each implementation, so the site links both ways.

This package needs the optional `methods` extra (torch, transformers, scikit-learn).
"""
