"""A Flask API around a scikit-learn pipeline, the way most tutorials write it.

    POST /predict  {"features": [5.1, 3.5, 1.4, 0.2]}          -> {"predictions": ["setosa"]}
                   {"features": [[5.1, 3.5, 1.4, 0.2], [...]]}  -> one prediction per row
    GET  /health   -> {"status": "ok"}
"""

import joblib
from flask import Flask, jsonify, request

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

app = Flask(__name__)
pipeline = joblib.load("pipeline.pkl")


def bad_request(message):
    return jsonify({"error": message}), 400


@app.route("/health")
def health():
    return jsonify({"status": "ok"})


@app.route("/predict", methods=["POST"])
def predict():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "features" not in body:
        return bad_request('expected a JSON object with "features": a list of '
                           f'{len(FEATURES)} numbers ({", ".join(FEATURES)}) or a list of such lists')
    rows = body["features"]
    if isinstance(rows, list) and rows and not isinstance(rows[0], list):
        rows = [rows]
    if (not isinstance(rows, list) or not rows or len(rows) > 1000 or any(
            not isinstance(row, list) or len(row) != len(FEATURES) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)
            for row in rows)):
        return bad_request(f"each row of \"features\" must be {len(FEATURES)} numbers "
                           f"({', '.join(FEATURES)}), at most 1000 rows")
    return jsonify({"predictions": pipeline.predict(rows).tolist()})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
