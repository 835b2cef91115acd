"""Trains a scikit-learn pipeline on the iris data set and writes pipeline.pkl.

    python3 train.py        # needs scikit-learn 1.2.1 (Debian: apt-get install python3-sklearn)
"""

import csv
import pickle

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [[float(r[n]) for n in FEATURES] for r in rows], [r["species"] for r in rows]


def make_pipeline():
    return Pipeline([
        ("scale", StandardScaler()),
        ("classify", LogisticRegression(max_iter=1000)),
    ])


def main():
    X, y = load("data/iris.csv")

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y)
    held_out = make_pipeline().fit(X_train, y_train)
    print(f"held-out accuracy: {held_out.score(X_test, y_test):.3f}")

    pipeline = make_pipeline().fit(X, y)
    print(f"training accuracy: {pipeline.score(X, y):.3f}")

    # A plain pickle rather than joblib.dump: joblib.load reads it (api.py uses that), and so
    # does pickle.load, which is all dsbuild's predict server needs.
    with open("pipeline.pkl", "wb") as f:
        pickle.dump(pipeline, f, protocol=4)
    print("wrote pipeline.pkl")


if __name__ == "__main__":
    main()
