"""The Open Inference Protocol v2 (KServe's data plane; what Triton, MLServer and KServe clients
speak) over the same repository.

- ``GET /v2``, ``/v2/health/live``, ``/v2/health/ready``; ``GET /v2/models/{name}[/versions/{v}]``
  (metadata), ``.../ready``; ``POST .../infer``. Errors are ``{"error": message}``.
- Inputs: one tensor per input field (shape ``[n]`` or ``[n, 1]``), or one 2-D tensor ``[n, k]``
  whose columns are the model's input fields in the order the metadata lists them. The request
  parameter ``content_type`` says which: ``"pd"`` (columns, as MLServer's pandas codec) or
  ``"np"`` (one matrix); without it a single input that is not a field's name and has two
  dimensions is a matrix.
- Outputs: one tensor per output field, shape ``[n]``, FP64 / INT64 / BOOL / BYTES from the
  field's data type; a missing value is ``null``. The request's ``outputs`` picks a subset.
- The binary tensor data extension is understood on input (``Inference-Header-Content-Length``,
  ``binary_data_size``), so tritonclient's default binary inputs work; outputs are always JSON,
  which the extension allows (a client's ``binary_data`` request is a preference).
- A rejected row fails the request with 422 naming the row and field (the protocol has no
  per-row errors); the JSON model API is the place for partial batches.
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import PortmodelError
from .auth import require_scoring
from .registry import Loaded, ModelNotFound
from .scoring import dumps

router = APIRouter(prefix="/v2", tags=["open inference protocol v2"])

#: PMML/PFA data types -> V2 datatypes
_DATATYPES = {"double": "FP64", "float": "FP64", "real": "FP64", "integer": "INT64",
              "int": "INT64", "long": "INT64", "boolean": "BOOL", "string": "BYTES"}
_NUMPY = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
          "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
          "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}


class V2Error(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> Response:
    return Response(dumps({"error": message}), status_code=status,
                    media_type="application/json")


def datatype(data_type: str | None) -> str:
    return _DATATYPES.get((data_type or "").lower(), "BYTES")


def _version(version: str | None) -> int | None:
    if version is None:
        return None
    try:
        return int(version)
    except ValueError:
        raise V2Error(404, f"version {version!r} is not a version number") from None


def _resolve(request: Request, name: str, version: str | None) -> Loaded:
    try:
        return request.app.state.registry.resolve(name, _version(version))
    except ModelNotFound as exc:
        raise V2Error(404, str(exc)) from None


# ---------------------------------------------------------------------- health and metadata

@router.get("", summary="server metadata")
async def server_metadata() -> Response:
    return Response(dumps({"name": "portmodel", "version": __version__,
                           "extensions": ["binary_tensor_data"]}),
                    media_type="application/json")


@router.get("/health/live", summary="server live")
async def live() -> Response:
    return Response(b"", status_code=200)


@router.get("/health/ready", summary="server ready", responses={503: {}})
async def ready(request: Request) -> Response:
    try:
        request.app.state.registry.refresh()
    except Exception as exc:   # noqa: BLE001 - the repository is unreachable: not ready
        return _error(503, f"the model repository is not reachable: {exc}")
    return Response(b"", status_code=200)


def _metadata(request: Request, name: str, version: str | None) -> Response:
    try:
        loaded = _resolve(request, name, version)
    except V2Error as exc:
        return _error(exc.status, str(exc))
    versions = sorted(request.app.state.registry.table().get(name, {}).get("versions", {}))
    model = loaded.model
    return Response(dumps({
        "name": name,
        "versions": [str(v) for v in versions] if version is None else [str(loaded.version)],
        "platform": f"portmodel_{model.format}",
        "inputs": [{"name": f.name, "datatype": datatype(f.data_type), "shape": [-1]}
                   for f in model.inputs],
        "outputs": [{"name": f.name, "datatype": datatype(f.data_type), "shape": [-1]}
                    for f in model.outputs],
    }), media_type="application/json")


@router.get("/models/{name}", summary="model metadata", responses={404: {}})
async def model_metadata(request: Request, name: str) -> Response:
    return _metadata(request, name, None)


@router.get("/models/{name}/versions/{version}", summary="model version metadata",
            responses={404: {}})
async def version_metadata(request: Request, name: str, version: str) -> Response:
    return _metadata(request, name, version)


def _ready(request: Request, name: str, version: str | None) -> Response:
    try:
        _resolve(request, name, version)
    except V2Error as exc:
        return _error(exc.status, str(exc))
    return Response(b"", status_code=200)


@router.get("/models/{name}/ready", summary="model ready", responses={404: {}})
async def model_ready(request: Request, name: str) -> Response:
    return _ready(request, name, None)


@router.get("/models/{name}/versions/{version}/ready", summary="model version ready",
            responses={404: {}})
async def version_ready(request: Request, name: str, version: str) -> Response:
    return _ready(request, name, version)


# ---------------------------------------------------------------------- inference

_TENSOR = {"type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
    "name": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}},
    "datatype": {"type": "string"}, "parameters": {"type": "object"}, "data": {}}}
INFER_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["inputs"], "properties": {
        "id": {"type": "string"}, "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": _TENSOR},
        "outputs": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "parameters": {"type": "object"}}}}}}}}}}


def split_body(body: bytes, header_length: str | None) -> tuple[dict, bytes]:
    """The JSON inference header and the binary tensor data after it (if any)."""
    if header_length is not None:
        try:
            n = int(header_length)
        except ValueError:
            raise V2Error(400, "Inference-Header-Content-Length is not a number") from None
        if not 0 < n <= len(body):
            raise V2Error(400, "Inference-Header-Content-Length is outside the body")
        head, rest = body[:n], body[n:]
    else:
        head, rest = body, b""
    try:
        doc = orjson.loads(head)
    except orjson.JSONDecodeError as exc:
        raise V2Error(400, f"malformed JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise V2Error(400, "the inference request must be a JSON object")
    return doc, rest


def _decode_bytes(raw: bytes, count: int) -> list:
    out, pos = [], 0
    for _ in range(count):
        if pos + 4 > len(raw):
            raise V2Error(400, "BYTES tensor data is shorter than its shape says")
        (size,) = struct.unpack_from("<I", raw, pos)
        pos += 4
        out.append(raw[pos:pos + size].decode("utf-8", "replace"))
        pos += size
    if pos != len(raw):
        raise V2Error(400, "BYTES tensor data is longer than its shape says")
    return out


def tensor_values(tensor: Any, binary: bytes, offset: int) -> tuple[np.ndarray, tuple, int]:
    """(flat values, shape, new binary offset) of one request input tensor."""
    if not isinstance(tensor, dict):
        raise V2Error(400, "each input must be a tensor object")
    name = tensor.get("name")
    shape = tensor.get("shape")
    dtype = tensor.get("datatype")
    if not isinstance(name, str) or not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise V2Error(400, "an input tensor needs a name and a shape of non-negative integers")
    if not isinstance(dtype, str) or (dtype != "BYTES" and dtype not in _NUMPY):
        raise V2Error(400, f"input {name!r}: unknown datatype {dtype!r}")
    count = 1
    for d in shape:
        count *= d
    if count > 100_000_000:
        raise V2Error(400, f"input {name!r}: shape {shape} is too large")
    params = tensor.get("parameters") or {}
    if not isinstance(params, dict):
        raise V2Error(400, f"input {name!r}: parameters must be an object")
    size = params.get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise V2Error(400, f"input {name!r}: binary_data_size is outside the body")
        raw = binary[offset:offset + size]
        offset += size
        if dtype == "BYTES":
            values = np.empty(count, dtype=object)
            values[:] = _decode_bytes(raw, count)
        else:
            np_type = np.dtype(_NUMPY[dtype]).newbyteorder("<")
            if len(raw) != count * np_type.itemsize:
                raise V2Error(400, f"input {name!r}: {len(raw)} bytes do not hold shape {shape}")
            values = np.frombuffer(raw, dtype=np_type)
    else:
        if "data" not in tensor:
            raise V2Error(400, f"input {name!r} has no data")
        values = _flatten(tensor["data"], name)
        if len(values) != count:
            raise V2Error(400, f"input {name!r}: {len(values)} values do not fill shape {shape}")
        if dtype == "BYTES":
            arr = np.empty(count, dtype=object)
            arr[:] = [None if v is None else (v if isinstance(v, str) else str(v))
                      for v in values]
            values = arr
        else:
            try:
                values = np.array([np.nan if v is None else v for v in values],
                                  dtype=np.float64 if dtype.startswith("FP") else object)
                if dtype == "BOOL":
                    values = np.array([None if v is None else bool(v) for v in values],
                                      dtype=object)
                elif not dtype.startswith("FP"):
                    values = np.array([np.nan if v is None else float(int(v)) for v in values])
            except (TypeError, ValueError, OverflowError):
                raise V2Error(400, f"input {name!r}: data does not match datatype {dtype}") \
                    from None
    if dtype.startswith(("FP", "INT", "UINT")) and values.dtype != object:
        values = values.astype(np.float64)
    elif dtype == "BOOL" and values.dtype != object:
        values = values.astype(object)
    return values, tuple(shape), offset


def _flatten(data: Any, name: str) -> list:
    if not isinstance(data, list):
        return [data]
    if all(not isinstance(v, list) for v in data):
        return data
    out: list = []
    stack = [data]
    while stack:   # row-major flattening of nested lists, without recursion
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def request_columns(doc: dict, binary: bytes, fields: list[str]) -> tuple[dict, int]:
    """V2 inputs -> (columns by field name, row count)."""
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise V2Error(400, "the request needs a non-empty list of inputs")
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise V2Error(400, "parameters must be an object")
    content_type = params.get("content_type")
    tensors = []
    offset = 0
    for tensor in inputs:
        values, shape, offset = tensor_values(tensor, binary, offset)
        tensors.append((tensor["name"], values, shape))
    if offset != len(binary):
        raise V2Error(400, "the body has binary data no input claims")
    matrix = content_type == "np" or (
        content_type != "pd" and len(tensors) == 1 and len(tensors[0][2]) == 2
        and tensors[0][0] not in fields and tensors[0][2][1] != 1)
    if matrix:
        if len(tensors) != 1 or len(tensors[0][2]) != 2:
            raise V2Error(400, "a matrix request has one input of shape [rows, columns]")
        _name, values, (n, k) = tensors[0]
        if k != len(fields):
            raise V2Error(400, f"the input has {k} columns; the model takes {len(fields)} "
                               f"({', '.join(fields)})")
        grid = values.reshape(n, k) if len(values) else values.reshape(0, k)
        return {f: grid[:, j].copy() for j, f in enumerate(fields)}, n
    columns = {}
    n = None
    for name, values, shape in tensors:
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1) or not shape:
            raise V2Error(400, f"input {name!r}: a column has shape [rows] or [rows, 1], "
                               f"not {list(shape)}")
        if n is None:
            n = shape[0]
        elif shape[0] != n:
            raise V2Error(400, f"input {name!r} has {shape[0]} rows; the others have {n}")
        columns[name] = values
    return columns, int(n or 0)


def _output_data(values: np.ndarray, dtype: str) -> list:
    out = []
    for v in values.tolist() if isinstance(values, np.ndarray) else list(values):
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        elif dtype == "INT64":
            out.append(int(v) if float(v).is_integer() else v)
        elif dtype == "BOOL":
            out.append(bool(v))
        elif dtype == "BYTES":
            out.append(v if isinstance(v, str) else str(v))
        else:
            out.append(float(v))
    return out


async def _infer(request: Request, name: str, version: str | None) -> Response:
    try:
        loaded = _resolve(request, name, version)
        body = await request.body()
        doc, binary = split_body(body, request.headers.get("inference-header-content-length"))
        model = loaded.model
        fields = [f.name for f in model.inputs]
        columns, n = request_columns(doc, binary, fields)
        wanted = doc.get("outputs")
        names = [f.name for f in model.outputs]
        if wanted is not None:
            if not isinstance(wanted, list) or not all(
                    isinstance(o, dict) and isinstance(o.get("name"), str) for o in wanted):
                raise V2Error(400, "outputs must be a list of {\"name\": ...} objects")
            unknown = [o["name"] for o in wanted if o["name"] not in names]
            if unknown:
                raise V2Error(400, f"unknown output(s) {', '.join(unknown)}; the model gives "
                                   f"{', '.join(names)}")
            names = [o["name"] for o in wanted]
        try:
            if len(body) > 16_384:   # a large batch is scored off the event loop
                batch = await run_in_threadpool(model.score_columns, columns, n)
            else:
                batch = model.score_columns(columns, n)
        except (PortmodelError, TypeError, ValueError) as exc:
            raise V2Error(422, " ".join(str(exc).split())) from None
        if batch.errors:
            first = batch.errors[min(batch.errors)]
            raise V2Error(422, " ".join(str(first).split()))
    except V2Error as exc:
        return _error(exc.status, str(exc))
    request.state.model = loaded.name
    request.state.version = loaded.version
    types = {f.name: datatype(f.data_type) for f in model.outputs}
    outputs = []
    for out_name in names:
        values = batch.columns.get(out_name)
        if values is None:
            values = np.full(n, None, dtype=object)
        dtype = types.get(out_name, "BYTES")
        outputs.append({"name": out_name, "datatype": dtype, "shape": [n],
                        "data": _output_data(values, dtype)})
    answer: dict = {"model_name": name, "model_version": str(loaded.version), "outputs": outputs}
    if isinstance(doc.get("id"), str):
        answer["id"] = doc["id"]
    return Response(dumps(answer), media_type="application/json",
                    headers={"X-Model-Version": str(loaded.version)})


@router.post("/models/{name}/infer", summary="inference", openapi_extra=INFER_BODY,
             dependencies=[Depends(require_scoring)], responses={400: {}, 404: {}, 422: {}})
async def infer(request: Request, name: str) -> Response:
    return await _infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", summary="inference with a version",
             openapi_extra=INFER_BODY, dependencies=[Depends(require_scoring)],
             responses={400: {}, 404: {}, 422: {}})
async def infer_version(request: Request, name: str, version: str) -> Response:
    return await _infer(request, name, version)
