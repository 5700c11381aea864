"""The framing of `POST /api/v1/blobs/batch`, shared by the server and the REST client.

A batch body is each blob preceded by its length as an 8-byte big-endian unsigned integer.
It lives outside `mloop.storage.rest` so the server reads it without importing the REST client
(httpx and every remote store), which would lengthen its start-up.
"""

from __future__ import annotations

import struct

FRAME = struct.Struct(">Q")
"""The length prefix of each blob in a batch."""
