"""`write_docker_context`: a Dockerfile and build context that serve one model package.

The context holds the package itself (so the image needs no tracking server), a
`requirements.txt` with the package's pinned requirements plus `mloop[server,...]` at this
mloop's version, and a Dockerfile that installs them, drops to a non-root user and runs
`mloop serve` on the copied package with a health check on `/v2/health/ready`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mloop.errors import AlreadyExistsError, InvalidInputError

if TYPE_CHECKING:
    from mloop.models import ModelPackage

MODEL_DIR = "/opt/mloop/model"
WHEELS_DIR = "/opt/mloop/wheels"
DATA_DIR = "/var/lib/mloop"  # MLOOP_HOME of the server: the only place it writes
USER_ID = 10001  # numeric: hadolint DL3066, and Kubernetes runAsNonRoot can verify it
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True, slots=True)
class DockerContext:
    """A build context written by `write_docker_context`.

    Attributes:
        path: the context folder (`docker build PATH`).
        dockerfile: its Dockerfile.
        base_image: the image it starts from.
        requirements: the lines of its `requirements.txt`.
        model_name: the name the server reports for the model.
        port: the port the server listens on inside the container.
    """

    path: Path
    dockerfile: Path
    base_image: str
    requirements: list[str]
    model_name: str
    port: int


def write_docker_context(
    model_uri: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    base_image: str | None = None,
    name: str | None = None,
    port: int = 8080,
    mloop_requirement: str | None = None,
    mloop_wheel: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> DockerContext:
    """Write a Docker build context that serves a model package with `mloop serve`.

    Args:
        model_uri: `models:/NAME@alias`, `models:/NAME/3`, `runs:/<run_id>/model` or a package
            folder.
        out: the folder to write (created; must be empty unless `overwrite`).
        base_image: the image to start from (default: `python:X.Y-slim` for the Python that
            saved the package).
        name: the model name the server reports (default: the registered model's name, else
            the package folder's).
        port: the port the server listens on in the container.
        mloop_requirement: the line that installs mloop (default
            `mloop[server,...]==<this version>`).
        mloop_wheel: a wheel of mloop to copy into the context (`wheels/`) and install from,
            for an mloop not installed from PyPI (a checkout: `pip wheel --no-deps -w dist .`).
        overwrite: replace the contents of a non-empty `out`.

    Returns:
        The context's paths and what it was built with.

    Raises:
        InvalidInputError: a bad port, name, base image or wheel, or both a wheel and a
            requirement line.
        AlreadyExistsError: `out` is not empty and `overwrite` is false.
        NotFoundError, ModelPackageNotFoundError, CorruptModelPackageError: the model cannot
            be found, or a file of its package changed since it was saved.
    """
    from mloop.client.models import MODELS_SCHEME, resolve_package_folder
    from mloop.models import read_package

    if not 0 < port < 65536:
        raise InvalidInputError(f"port must be 1-65535, got {port}", field="port")
    target = Path(out)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise AlreadyExistsError(f"{target} is not empty; pass --overwrite to replace it")
    package = read_package(resolve_package_folder(model_uri))
    uri = os.fspath(model_uri)
    if name is None and uri.startswith(MODELS_SCHEME):
        from mloop.registry import parse_model_uri

        name = parse_model_uri(uri).name
    model_name = _checked_name(name or package.path.name)
    image = base_image or f"python:{_python_minor(package)}-slim"
    if not image.strip() or any(c.isspace() for c in image):
        raise InvalidInputError(f"base image {image!r} is not an image name", field="base_image")
    wheel = _checked_wheel(mloop_wheel, mloop_requirement)
    line = mloop_requirement or _mloop_line(package, wheel.name if wheel else None)
    requirements = [*package.requirements, line]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _copy_package(package, target / "model")
    if wheel is not None:
        (target / "wheels").mkdir()
        shutil.copy2(wheel, target / "wheels" / wheel.name)
    (target / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    ignore = "*\n!model/\n!requirements.txt\n" + ("!wheels/\n" if wheel else "")
    (target / ".dockerignore").write_text(ignore, encoding="utf-8")
    dockerfile = target / "Dockerfile"
    text = dockerfile_text(image, model_name, port, wheels=wheel is not None)
    dockerfile.write_text(text, encoding="utf-8")
    return DockerContext(target, dockerfile, image, requirements, model_name, port)


def _checked_name(name: str) -> str:
    if not name or not set(name.lower()) <= _NAME_CHARS:
        raise InvalidInputError(
            f"model name {name!r} may hold only letters, digits, '.', '_' and '-'; pass --name",
            field="name",
        )
    return name


def _python_minor(package: ModelPackage) -> str:
    parts = package.python_version.split(".")
    if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]):
        return ".".join(parts[:2])
    return "3.11"


def _checked_wheel(wheel: str | os.PathLike[str] | None, requirement: str | None) -> Path | None:
    if wheel is None:
        return None
    if requirement is not None:
        raise InvalidInputError(
            "give --mloop-wheel or --mloop-requirement, not both", field="mloop_wheel"
        )
    path = Path(wheel)
    if not (path.is_file() and path.name.startswith("mloop-") and path.suffix == ".whl"):
        raise InvalidInputError(
            f"{path} is not a wheel of mloop (mloop-<version>-...whl); build one with "
            "`pip wheel --no-deps -w dist .` in the mloop checkout",
            field="mloop_wheel",
        )
    return path


def _mloop_line(package: ModelPackage, wheel: str | None) -> str:
    from mloop.__about__ import __version__

    extras = ["server"]
    if package.onnx is not None and package.onnx.verified:
        extras.append("onnx")
    if wheel is not None:
        return f"mloop[{','.join(extras)}] @ file://{WHEELS_DIR}/{wheel}"
    return f"mloop[{','.join(extras)}]=={__version__}"


def _copy_package(package: ModelPackage, folder: Path) -> None:
    """Copy the manifest and each file it lists, checked against its digest on the way."""
    from mloop.models.package import PACKAGE_FILE

    folder.mkdir()
    shutil.copy2(package.path / PACKAGE_FILE, folder / PACKAGE_FILE)
    for relative in package.files:
        source = package.file(relative)  # CorruptModelPackageError when it changed
        destination = folder / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def dockerfile_text(base_image: str, model_name: str, port: int, *, wheels: bool = False) -> str:
    """The Dockerfile of a context (see the module docstring for what it does).

    With `wheels`, the context's `wheels/` folder is copied in before the requirements install.
    """
    copy_wheels = "COPY wheels/ ./wheels/\n" if wheels else ""
    probe = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{port}/v2/health/ready', timeout=2)"
    )
    command = [
        "mloop",
        "serve",
        MODEL_DIR,
        "--name",
        model_name,
        "--host",
        "0.0.0.0",  # noqa: S104 - a container listens on its own network namespace
        "--port",
        str(port),
    ]
    return f"""\
# Serves the model package in model/ with `mloop serve` (written by mloop models build-docker).
# Build: docker build -t {model_name} .
# Run:   docker run -p {port}:{port} {model_name}
FROM {base_image}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    MLOOP_HOME={DATA_DIR}

RUN groupadd --system --gid {USER_ID} mloop \\
    && useradd --system --uid {USER_ID} --gid mloop --no-create-home \\
       --home-dir {DATA_DIR} --shell /usr/sbin/nologin mloop \\
    && mkdir -p {DATA_DIR} \\
    && chown mloop:mloop {DATA_DIR}

WORKDIR /opt/mloop
COPY requirements.txt ./
{copy_wheels}RUN pip install --no-cache-dir -r requirements.txt

# Owned by root and read-only to the server's user: the model cannot change under it.
COPY model/ {MODEL_DIR}/

USER {USER_ID}:{USER_ID}
EXPOSE {port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\
    CMD {json.dumps(["python", "-c", probe])}
CMD {json.dumps(command)}
"""
