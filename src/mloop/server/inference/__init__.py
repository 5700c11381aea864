"""The inference server (`mloop serve`): a raw ASGI app over `mloop.serving`, no FastAPI.

Routes are matched by hand and bodies parsed with orjson, so a request costs tens of
microseconds of Python; the model service, batcher and router live in `mloop.serving`.
"""
