"""Running git for tunebook: bounded in time, deaf to the user's diff settings, read-only.

Every call runs ``git`` with a timeout, no terminal prompt (a clone of a
remote asking for a password fails instead of hanging), ``GIT_OPTIONAL_LOCKS=0``
(``git status`` does not rewrite the user's index) and the options that keep
its output machine-readable whatever the user's config says (no colour, no
external diff or textconv, ``a/`` and ``b/`` prefixes).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

TIMEOUT_S = 20.0

# config that would change the text of a diff or make git talk to the user
_CONFIG = (
    "-c", "core.quotepath=false", "-c", "color.ui=false", "-c", "diff.noprefix=false",
    "-c", "diff.mnemonicPrefix=false", "-c", "advice.detachedHead=false", "-c", "core.pager=cat",
)
DIFF_OPTIONS = (
    "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--src-prefix=a/", "--dst-prefix=b/",
)


class GitFailed(Exception):
    """git is missing, timed out, or exited non-zero; the message says which, with git's own words."""

    def __init__(self, message: str, returncode: int | None = None):
        super().__init__(message)
        self.returncode = returncode


def git(cwd: Path | str, *args: str, input: bytes | None = None, ok: tuple[int, ...] = (0,),
        timeout: float = TIMEOUT_S) -> bytes:
    """``git ARGS`` run in ``cwd``; its stdout as bytes. GitFailed unless the exit status is in ``ok``."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}
    env.pop("GIT_DIR", None)  # a GIT_DIR from the caller's shell would point every call at one repository
    env.pop("GIT_WORK_TREE", None)
    env.pop("GIT_INDEX_FILE", None)
    try:
        done = subprocess.run(
            ["git", *_CONFIG, *args], cwd=str(cwd), input=input, capture_output=True, env=env, timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise GitFailed("git is not installed (not found on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitFailed(f"git {args[0]} took longer than {timeout:g} s") from None
    except OSError as exc:
        raise GitFailed(f"git {args[0]} could not start: {exc}") from None
    if done.returncode not in ok:
        raise GitFailed(f"git {args[0]} failed: {_complaint(done.stderr, done.returncode)}", done.returncode)
    return done.stdout


def _complaint(stderr: bytes, returncode: int) -> str:
    """git's own reason: its first ``fatal:``/``error:`` line (hints follow it), else its last line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (errors or lines or [f"exit status {returncode}"])[0 if errors else -1]


def git_text(cwd: Path | str, *args: str) -> str:
    """``git ARGS`` output as stripped text."""
    return git(cwd, *args).decode("utf-8", "replace").strip()


def repository_root(path: Path) -> Path | None:
    """The top folder of the work tree holding ``path`` (a file or a folder); None outside any repository.

    GitFailed when git itself cannot answer (missing, timed out, an unsafe repository).
    """
    folder = path if path.is_dir() else path.parent
    try:
        return Path(git_text(folder, "rev-parse", "--show-toplevel"))
    except GitFailed as exc:
        if "not a git repository" in str(exc):
            return None
        raise


def without_credentials(url: str) -> str:
    """A remote URL with any user name and password removed from http(s) URLs, passwords from others.

    ``https://oauth2:TOKEN@host/repo.git`` -> ``https://host/repo.git``; ``ssh://git@host/repo`` and
    ``git@host:repo`` keep their (secret-free) user.
    """
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    if parts.scheme in ("http", "https", "ftp", "ftps"):
        netloc = host
    else:
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
