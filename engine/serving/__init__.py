"""The scoring service: ``portmodel serve`` (FastAPI on uvicorn, extra ``serve``).

- ``config``: ServeConfig, the options every worker process shares.
- ``store``: the model repository (documents by sha256, versions, promotion, endpoints, history)
  on SQLite (default) or PostgreSQL.
- ``registry``: name/version -> compiled model, cached per worker by digest.
- ``scoring``: JSON records, record lists and CSV through a model.
- ``app``: the application factory and the model API; ``openscoring`` and ``v2`` add the
  Openscoring-compatible paths and the Open Inference Protocol.
"""
