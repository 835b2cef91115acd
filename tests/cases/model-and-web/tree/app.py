import pickle

from flask import Flask, jsonify, request

app = Flask(__name__)
with open("model.pkl", "rb") as f:
    model = pickle.load(f)


@app.post("/predict")
def predict():
    x = request.get_json()["features"]
    label = model["labels"][0] if x[model["feature"]] < model["threshold"] else model["labels"][1]
    return jsonify(prediction=label)
