"""The trained category and priority classifiers: multinomial logistic regression (scikit-learn)
over the ticket's embedding. (TF-IDF features beside the embedding were measured on the
evaluation set: no better within noise for either field, and 40-150 times slower to train.)

Training (``train``): the labelled tickets are split in stratified folds; the out-of-fold
predictions calibrate the confidence (one temperature, fitted by likelihood) and choose the
abstain threshold: the lowest confidence at which the held-out accuracy of the suggestions made
reaches ``TARGET_PRECISION`` (so "the card suggests" means "right at least that often on tickets
the model had not seen"). The final model is then fitted on every label.

Storage: a model is arrays only (coefficients, intercepts, calibration) in a NumPy
``.npz`` archive loaded with ``allow_pickle=False``, plus its classes and metrics as JSON: no
pickled object is ever loaded from the database. Prediction needs NumPy only.

Cold start: fewer than ``MIN_LABELS`` labels, or fewer than two labels with ``MIN_PER_CLASS``
examples each, trains nothing: the engine falls back to a vote of the nearest resolved tickets.
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

FIELDS = ("category", "priority")
MIN_LABELS = 30
MIN_PER_CLASS = 4
MAX_FOLDS = 5
TARGET_PRECISION = {"category": 0.90, "priority": 0.75}
REGULARISATION = 10.0  # scikit-learn's C
NEVER = 1.01  # a threshold no confidence reaches


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    out: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return out


@dataclass(slots=True)
class Classifier:
    field: str
    classes: list[str]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray
    temperature: float
    threshold: float
    embed_model: str
    labels: int
    version: int = 0
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        return _softmax(logits / self.temperature)

    def predict(self, vector: list[float]) -> tuple[str, float]:
        """The most probable class and its calibrated probability."""
        p = self.probabilities(np.asarray([vector], dtype=np.float32))[0]
        best = int(p.argmax())
        return self.classes[best], float(p[best])

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        arrays: dict[str, np.ndarray] = {
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float32),
            "calibration": np.asarray([self.temperature, self.threshold], dtype=np.float64),
        }
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def loads(
        cls,
        data: bytes,
        *,
        field: str,
        classes: list[str],
        embed_model: str,
        labels: int,
        version: int,
        metrics: dict[str, Any],
    ) -> Classifier:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            coef = archive["coef"]
            intercept = archive["intercept"]
            temperature, threshold = (float(v) for v in archive["calibration"])
        if coef.shape[0] != len(classes) or intercept.shape != (len(classes),):
            raise ValueError("the stored classifier does not match its classes")
        return cls(
            field=field,
            classes=classes,
            coef=coef,
            intercept=intercept,
            temperature=temperature,
            threshold=threshold,
            embed_model=embed_model,
            labels=labels,
            version=version,
            metrics=metrics,
        )


def _fit(x: Any, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=REGULARISATION, max_iter=3000).fit(x, y)


def _logits(model: Any, x: Any, n_classes: int) -> np.ndarray:
    """Per-class logits of a fitted model over all *n_classes* (a class missing from its
    training data keeps a logit far below the others)."""
    raw = model.decision_function(x)
    if raw.ndim == 1:  # two classes: scikit-learn gives logit(second) - logit(first)
        raw = np.stack([np.zeros_like(raw), raw], axis=1)
    full = np.full((raw.shape[0], n_classes), -1e3)
    full[:, model.classes_] = raw
    return full


def _temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the held-out negative log-likelihood."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        p = _softmax(logits / math.exp(log_t))
        return float(-np.log(np.clip(p[rows, truth], 1e-12, 1.0)).mean())

    found = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return float(math.exp(found.x))


def choose_threshold(confidence: np.ndarray, right: np.ndarray, precision: float) -> float:
    """The abstain threshold: the suggestions made at or above it were right at least
    *precision* of the time on held-out data, and it takes in as many as possible. It sits
    halfway between the lowest confidence kept and the next lower one (a new ticket's confidence
    never lands exactly on a held-out value); 0.0 when every suggestion may be made, NEVER when
    no level reaches *precision*."""
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    accuracy = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    cut = None
    for i in range(len(order)):
        # A threshold takes every tie at its level: only cut between distinct values.
        if i + 1 < len(order) and ranked[i + 1] == ranked[i]:
            continue
        if accuracy[i] >= precision:
            cut = i
    if cut is None:
        return NEVER
    if cut + 1 >= len(order):
        return 0.0
    return float((ranked[cut] + ranked[cut + 1]) / 2)


def trainable(labels: list[str]) -> list[str]:
    """The classes with enough examples to learn (others are left out of training)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return sorted(c for c, n in counts.items() if n >= MIN_PER_CLASS)


def train(
    field_name: str,
    vectors: np.ndarray,
    labels: list[str],
    embed_model: str,
    *,
    seed: int = 0,
) -> Classifier | None:
    """A calibrated classifier of *field_name*, or None when the labels are too few."""
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    classes = trainable(labels)
    keep = [i for i, label in enumerate(labels) if label in set(classes)]
    if len(classes) < 2 or len(keep) < MIN_LABELS:
        return None
    x = vectors[keep]
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[labels[i]] for i in keep])
    folds = min(MAX_FOLDS, int(np.bincount(y).min()))
    logits = np.zeros((len(y), len(classes)))
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y)
    for train_rows, test_rows in splits:
        model = _fit(x[train_rows], y[train_rows])
        logits[test_rows] = _logits(model, x[test_rows], len(classes))
    temperature = _temperature(logits, y)
    calibrated = _softmax(logits / temperature)
    confidence = calibrated.max(axis=1)
    right = (calibrated.argmax(axis=1) == y).astype(np.float64)
    threshold = choose_threshold(confidence, right, TARGET_PRECISION[field_name])
    covered = confidence >= threshold
    final = _fit(x, y)
    coef = np.zeros((len(classes), final.coef_.shape[1]), dtype=np.float32)
    intercept = np.zeros(len(classes), dtype=np.float32)
    if len(classes) == 2:  # scikit-learn keeps one row for two classes: logit(1) - logit(0)
        coef[1], intercept[1] = final.coef_[0], final.intercept_[0]
    else:
        coef[final.classes_], intercept[final.classes_] = final.coef_, final.intercept_
    metrics = {
        "held_out_accuracy": round(float(right.mean()), 4),
        "held_out_coverage": round(float(covered.mean()), 4),
        "held_out_covered_accuracy": round(float(right[covered].mean()), 4)
        if covered.any()
        else None,
        "folds": folds,
        "target_precision": TARGET_PRECISION[field_name],
        "temperature": round(temperature, 4),
        "threshold": round(threshold, 4),
        "per_class": {c: int((y == i).sum()) for c, i in index.items()},
        "seconds": round(time.perf_counter() - started, 2),
    }
    return Classifier(
        field=field_name,
        classes=classes,
        coef=coef,
        intercept=intercept,
        temperature=temperature,
        threshold=threshold,
        embed_model=embed_model,
        labels=len(keep),
        metrics=metrics,
    )
