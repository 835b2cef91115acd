"""Trains the iris classifier in model.py and writes model.pkl.

    python3 train.py            # reads data/iris.csv, writes model.pkl

The result is deterministic: training twice gives the same model.pkl, byte for byte.
"""

import csv
import pickle
import random

from model import GaussianNB

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    X = [[float(r[name]) for name in FEATURES] for r in rows]
    y = [r["species"] for r in rows]
    return X, y


def accuracy(model, X, y):
    return sum(p == t for p, t in zip(model.predict(X), y)) / len(y)


def main():
    X, y = load("data/iris.csv")

    # Hold out a fifth of the rows to report an honest accuracy (fixed seed: same split
    # every time), then train the model we ship on all 150 rows.
    order = list(range(len(X)))
    random.Random(0).shuffle(order)
    test, train = order[:30], order[30:]
    held_out = GaussianNB().fit([X[i] for i in train], [y[i] for i in train], FEATURES)
    print(f"held-out accuracy: {accuracy(held_out, [X[i] for i in test], [y[i] for i in test]):.3f}")

    model = GaussianNB().fit(X, y, FEATURES)
    print(f"training accuracy: {accuracy(model, X, y):.3f}")

    with open("model.pkl", "wb") as f:
        # Protocol 4 reads on every Python from 3.4 on.
        pickle.dump(model, f, protocol=4)
    print("wrote model.pkl")


if __name__ == "__main__":
    main()
