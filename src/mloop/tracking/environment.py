"""What a run records about where it ran: code version, entry point, Python, packages, host, user.

Capturing costs tens of milliseconds (a few git calls, hundreds of installed packages), so the
client does it once per process in a background thread and never on the logging path.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# getpass, importlib.metadata, platform, socket and subprocess are imported where used: this
# module is imported by `import mloop`, which must stay cheap.

_GIT_TIMEOUT_S = 5.0
MAX_DIFF_BYTES = 5_000_000


@dataclass(frozen=True, slots=True)
class GitInfo:
    """The state of the git work tree the code ran from.

    Attributes:
        commit: the HEAD commit.
        branch: the branch name ("HEAD" when detached).
        is_dirty: the work tree has uncommitted changes to tracked files.
        diff: `git diff HEAD` when dirty (capped at MAX_DIFF_BYTES), else "".
        repo_root: the top of the work tree.
    """

    commit: str
    branch: str
    is_dirty: bool
    diff: str
    repo_root: str


@dataclass(frozen=True, slots=True)
class Environment:
    """Everything captured about the process.

    Attributes:
        python_version: e.g. "3.11.7".
        platform: OS and architecture.
        host: the machine's host name.
        user: the OS user.
        source_name: the entry-point script or notebook, or "<interactive>".
        source_type: "SCRIPT", "NOTEBOOK" or "INTERACTIVE".
        git: the git state, when the source is in a git work tree.
        packages: installed distributions as sorted `name==version` lines.
    """

    python_version: str
    platform: str
    host: str
    user: str
    source_name: str
    source_type: str
    git: GitInfo | None
    packages: list[str] = field(default_factory=list)

    def as_tags(self) -> dict[str, str]:
        """The system tags a run gets from this environment."""
        tags = {
            "mloop.user": self.user,
            "mloop.source.name": self.source_name,
            "mloop.source.type": self.source_type,
            "mloop.python_version": self.python_version,
            "mloop.platform": self.platform,
            "mloop.host": self.host,
        }
        if self.git is not None:
            tags.update(
                {
                    "mloop.source.git.commit": self.git.commit,
                    "mloop.source.git.branch": self.git.branch,
                    "mloop.source.git.dirty": str(self.git.is_dirty).lower(),
                    "mloop.source.git.repo_root": self.git.repo_root,
                }
            )
        return tags


def capture_environment(*, argv: list[str] | None = None) -> Environment:
    """Capture the environment of the current process."""
    import platform
    import socket

    source_name, source_type = _entry_point(sys.argv if argv is None else argv)
    folder = Path(source_name).parent if source_type == "SCRIPT" else Path.cwd()
    return Environment(
        python_version=platform.python_version(),
        platform=f"{platform.system()}-{platform.machine()}",
        host=socket.gethostname(),
        user=current_user(),
        source_name=source_name,
        source_type=source_type,
        git=git_info(folder),
        packages=installed_packages(),
    )


def current_user() -> str:
    """The OS user name, or "unknown" where the OS does not say."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return os.environ.get("USER", "unknown")


def installed_packages() -> list[str]:
    """Installed distributions as sorted `name==version` lines (names normalised, PEP 503).

    Read from the names of the `*.dist-info` / `*.egg-info` folders on `sys.path`, which the
    packaging standards define as `name-version`: a few milliseconds, where opening every
    distribution's metadata costs about a millisecond each. As with imports, the first folder
    on the path wins.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as children:
                names = [c.name for c in children if c.name.endswith((".dist-info", ".egg-info"))]
        except OSError:  # a zip file, a missing folder ...
            continue
        for folder in names:
            stem = folder.rsplit(".", 1)[0]
            name, _, version = stem.partition("-")
            version = version.split("-py", 1)[0]  # egg-info may carry "-py3.11"
            if name and version:
                found.setdefault(re.sub(r"[-_.]+", "-", name).lower(), version)
    return sorted(f"{name}=={version}" for name, version in found.items())


def git_info(folder: Path) -> GitInfo | None:
    """The git state of the work tree containing `folder`, or None outside one (or without git)."""
    root = _git(folder, "rev-parse", "--show-toplevel")
    if root is None:
        return None
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:  # a repository without commits
        return None
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD") or "HEAD"
    status = _git(folder, "status", "--porcelain", "--untracked-files=no") or ""
    is_dirty = bool(status.strip())
    diff = (_git(folder, "diff", "HEAD") or "") if is_dirty else ""
    return GitInfo(commit, branch, is_dirty, diff[:MAX_DIFF_BYTES], root)


def _git(folder: Path, *args: str) -> str | None:
    import subprocess

    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", *args],  # noqa: S607 - git is looked up on PATH on purpose
            cwd=folder if folder.is_dir() else Path.cwd(),
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.rstrip("\n") if args[0] == "diff" else done.stdout.strip()


def _entry_point(argv: list[str]) -> tuple[str, str]:
    notebook = _notebook_path()
    if notebook is not None:
        return notebook, "NOTEBOOK"
    script = argv[0] if argv else ""
    if script and script not in {"-c", "-m"} and Path(script).exists():
        return str(Path(script).resolve()), "SCRIPT"
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main_file:
        return str(Path(main_file).resolve()), "SCRIPT"
    return "<interactive>", "INTERACTIVE"


def _notebook_path() -> str | None:
    if "ipykernel" not in sys.modules:
        return None
    main = sys.modules.get("__main__")
    for candidate in (
        getattr(main, "__vsc_ipynb_file__", None),
        os.environ.get("JPY_SESSION_NAME"),
    ):
        if candidate:
            return str(candidate)
    return "<notebook>"
