from fastapi import FastAPI

api: FastAPI = FastAPI(title="scores")


@api.get("/healthz")
def healthz():
    return {"status": "ok"}
