"""The tracking server: FastAPI on uvicorn, in the `mloop[server]` extra.

`create_app` builds the ASGI application; `mloop server` runs it. HTTP knowledge (status codes,
JSON error bodies, routes) lives only in this package.
"""
