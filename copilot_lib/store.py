"""Object storage for the history archive: a local folder or an S3 prefix, one interface.

Keys are relative paths with ``/`` separators (``raw/org=acme/...``). Both backends write
whole objects atomically: the local folder writes a temporary file and renames it over the
target, and an S3 PUT replaces an object in one step. ``put(..., if_absent=True)`` creates an
object only when no object has the key (an S3 conditional write with ``If-None-Match: *``,
``os.link`` locally), so two writers cannot both believe they created it.

A read or list error raises :class:`StoreError`; only a missing key reads as ``None``, so a
failing store is never mistaken for an empty history. This is the only module that imports
boto3.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from copilot_lib import config
from copilot_lib.errors import StoreError

logger = logging.getLogger(__name__)

LOCK_PREFIX = "locks/"
# A run's lock on S3 expires after this long, so that a run killed while holding it (a Lambda
# timeout, a crash) does not block later runs for ever. It is longer than Lambda's maximum
# timeout of 15 minutes.
LOCK_TTL = timedelta(minutes=20)
LOCK_POLL_SECONDS = 0.2


class ObjectStore(ABC):
    """A flat namespace of immutable-looking objects addressed by relative keys."""

    url: str

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """Return the object's bytes, or None when no object has this key."""

    @abstractmethod
    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write an object; with ``if_absent``, only when the key is free.

        Returns False when ``if_absent`` is set and an object already has the key.
        """

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Return every key that starts with ``prefix``, sorted."""

    def list_tags(self, prefix: str) -> dict[str, str]:
        """Return every key that starts with ``prefix`` with a tag that changes with its content.

        An empty tag means the store cannot tell, so a copy of the object must not be reused.
        """
        return dict.fromkeys(self.list(prefix), "")

    @abstractmethod
    def lock(self, name: str, owner: str, *, wait: float) -> contextlib.AbstractContextManager[None]:
        """Hold an exclusive lock called ``name`` for the duration of a ``with`` block.

        Waits up to ``wait`` seconds for another holder to release it, then raises StoreError.
        """

    def local_root(self) -> Path | None:
        """Return the folder of a local store, or None for a remote one."""
        return None

    def __str__(self) -> str:
        return self.url


class LocalStore(ObjectStore):
    """Objects as files under a folder."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).expanduser()
        self.url = str(self.root)

    def local_root(self) -> Path:
        return self.root

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise StoreError(f"invalid store key {key!r}: keys are relative paths without '..'")
        return self.root / key

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc}; check the folder's permissions") from exc

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                if if_absent:
                    try:
                        os.link(temporary, path)
                    except FileExistsError:
                        return False
                else:
                    os.replace(temporary, path)
                    temporary = ""
            finally:
                if temporary:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(temporary)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc}; check free space and permissions") from exc
        return True

    def list(self, prefix: str) -> list[str]:
        # List the deepest folder the prefix names, then filter by the rest of the prefix.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self._path(folder) if folder else self.root
        if not base.exists():
            return []
        keys = []
        try:
            for path in base.rglob("*"):
                if path.name.startswith(".tmp-") or not path.is_file():
                    continue
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        except OSError as exc:
            raise StoreError(f"cannot list {base}: {exc}; check the folder's permissions") from exc
        return sorted(keys)

    def _unusable_message(self, exc: OSError) -> str:
        """Describe why the store folder cannot be written, naming the folder rather than a file in it."""
        blocker = next((path for path in (self.root, *self.root.parents) if path.exists()), None)
        if blocker is not None and not blocker.is_dir():
            reason = f"{blocker} is a file, not a folder"
        else:
            reason = f"{exc.strerror or exc}"
        return (
            f"cannot use the store folder {self.root} ({reason}): choose a folder you can write to "
            f"with --store or {config.ENV_STORE}"
        )

    @contextlib.contextmanager
    def lock(self, name: str, owner: str, *, wait: float) -> Iterator[None]:
        # flock is released by the kernel when the holder exits, even when it is killed.
        path = self._path(f"{LOCK_PREFIX}{name}.lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+b")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise StoreError(self._unusable_message(exc)) from exc
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(
                            f"timed out after {wait:.0f} s waiting for the lock {path}, which "
                            "another run has: wait for it to finish, then run again"
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
            logger.debug("%s took the lock %s", owner, path)
            yield
        finally:
            handle.close()


class S3Store(ObjectStore):
    """Objects under a prefix of an S3 bucket."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None, endpoint_url: str | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        self.client = client if client is not None else s3_client(endpoint_url)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _fail(self, action: str, key: str, exc: Exception) -> StoreError:
        return StoreError(
            f"S3 {action} of s3://{self.bucket}/{self._key(key)} failed: {exc}; check the bucket "
            "name, the AWS credentials and that their policy allows this action on the prefix"
        )

    def get(self, key: str) -> bytes | None:
        return self._get(key)[0]

    def get_with_etag(self, key: str) -> tuple[bytes | None, str | None]:
        return self._get(key)

    def _get(self, key: str) -> tuple[bytes | None, str | None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return response["Body"].read(), response.get("ETag")
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                return None, None
            raise self._fail("GET", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("GET", key, exc) from exc

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        return self.put_conditional(key, data, if_none_match=if_absent)

    def put_conditional(
        self, key: str, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> bool:
        """Write an object, only if absent (``if_none_match``) or only if its ETag is ``if_match``.

        Returns False when the condition does not hold (HTTP 412 or 409 from a concurrent
        conditional write).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if if_none_match:
            arguments["IfNoneMatch"] = "*"
        if if_match is not None:
            arguments["IfMatch"] = if_match
        try:
            self.client.put_object(**arguments)
        except ClientError as exc:
            if (if_none_match or if_match) and _error_code(exc) in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
                "412",
                "409",
            ):
                return False
            raise self._fail("PUT", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("PUT", key, exc) from exc
        return True

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("DELETE", key, exc) from exc

    def list(self, prefix: str) -> list[str]:
        return sorted(self.list_tags(prefix))

    def list_tags(self, prefix: str) -> dict[str, str]:
        """Return every key under ``prefix`` with its ETag, which changes when the object does."""
        from botocore.exceptions import BotoCoreError, ClientError

        tags: dict[str, str] = {}
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", []):
                    tags[item["Key"][len(self.prefix) :]] = item.get("ETag", "")
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("LIST", prefix, exc) from exc
        return dict(sorted(tags.items()))

    @contextlib.contextmanager
    def lock(self, name: str, owner: str, *, wait: float) -> Iterator[None]:
        # A lease object created with If-None-Match: *. An expired lease is taken over with
        # If-Match on its ETag, so two runs that both see it expired cannot both take it.
        key = f"{LOCK_PREFIX}{name}.json"
        token = f"{owner}/{uuid.uuid4().hex}"
        deadline = time.monotonic() + wait
        while not self._acquire(key, token):
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"timed out after {wait:.0f} s waiting for the lock "
                    f"s3://{self.bucket}/{self._key(key)}, which another run has: wait for it to "
                    f"finish (the lock expires {LOCK_TTL.total_seconds() / 60:.0f} minutes after "
                    "a crash), then run again"
                )
            time.sleep(LOCK_POLL_SECONDS)
        # A run longer than the lease (a long backfill) renews it well before it expires.
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(key, token, stop), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            body, _ = self._get(key)
            if body is not None and orjson.loads(body).get("token") == token:
                self.delete(key)

    def _renew(self, key: str, token: str, stop: threading.Event) -> None:
        while not stop.wait(LOCK_TTL.total_seconds() / 4):
            try:
                body, etag = self._get(key)
                if body is None or etag is None or orjson.loads(body).get("token") != token:
                    logger.error("lost the lock s3://%s/%s to another run", self.bucket, self._key(key))
                    return
                self.put_conditional(key, _lease(token), if_match=etag)
            except StoreError as exc:
                logger.warning("could not renew the lock s3://%s/%s: %s", self.bucket, key, exc)

    def _acquire(self, key: str, token: str) -> bool:
        lease = _lease(token)
        if self.put_conditional(key, lease, if_none_match=True):
            return True
        body, etag = self._get(key)
        if body is None:
            return False
        held_until = datetime.fromisoformat(orjson.loads(body)["expires_at"])
        if held_until > datetime.now(UTC) or etag is None:
            return False
        logger.warning("taking over the expired lock s3://%s/%s (expired %s)", self.bucket, key, held_until)
        return self.put_conditional(key, lease, if_match=etag)


def _lease(token: str) -> bytes:
    expires = datetime.now(UTC) + LOCK_TTL
    return orjson.dumps({"token": token, "expires_at": expires.isoformat()})


def _error_code(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code", ""))


def s3_client(endpoint_url: str | None = None, *, max_attempts: int = 5) -> Any:
    """Return an S3 client with timeouts and bounded retries (503 SlowDown is retried).

    Without ``endpoint_url``, boto3 reads ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``)
    itself, which is how tests aim it at a local S3 server.
    """
    import boto3
    from botocore.config import Config

    settings = Config(
        connect_timeout=10,
        read_timeout=60,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        s3={"addressing_style": "path"},
    )
    return boto3.client("s3", endpoint_url=endpoint_url or None, config=settings)


def open_store(location: str | os.PathLike[str] | None = None, *, endpoint_url: str | None = None) -> ObjectStore:
    """Open the store at ``location``: ``s3://bucket/prefix`` or a local folder.

    Without ``location``, ``COPILOT_STORE`` is used, else the default local folder.
    """
    chosen = config.setting(
        os.fspath(location) if location is not None else None,
        config.ENV_STORE,
        str(config.DEFAULT_STORE),
    )
    assert chosen is not None
    if chosen.startswith("s3://"):
        bucket, _, prefix = chosen[len("s3://") :].partition("/")
        if not bucket:
            raise StoreError(f"invalid store {chosen!r}: write s3://BUCKET or s3://BUCKET/PREFIX")
        return S3Store(bucket, prefix, endpoint_url=endpoint_url)
    if chosen.lower().startswith("s3:"):
        # A mistyped S3 URL such as s3:/bucket is a valid relative folder name, so it would
        # silently become a local store.
        raise StoreError(
            f"invalid store {chosen!r}: write s3://BUCKET or s3://BUCKET/PREFIX, or ./{chosen} for a local folder"
        )
    if "://" in chosen:
        raise StoreError(f"unsupported store {chosen!r}: use a local folder or s3://BUCKET/PREFIX")
    return LocalStore(chosen)
