"""Folders as Spark, pyarrow and deltalake name them (a local path, ``file:`` / ``hdfs://`` / ``s3a://`` URIs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.fs as pafs

from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError

__all__ = ["Location", "location"]

_log = get_logger(__name__)


@dataclass(frozen=True)
class Location:
    """One folder, as Spark (``spark``), pyarrow (``fs`` and ``path``) and deltalake (``delta``) name it."""

    spark: str
    fs: pafs.FileSystem
    path: str
    delta: str

    def child(self, *parts: str) -> "Location":
        """The folder ``parts`` below this one."""
        return Location("/".join([self.spark.rstrip("/"), *parts]), self.fs, "/".join([self.path.rstrip("/"), *parts]),
                         "/".join([self.delta.rstrip("/"), *parts]))

    def exists(self) -> bool:
        """Whether anything is at this path."""
        return self.fs.get_file_info(self.path).type != pafs.FileType.NotFound

    def is_empty_dir(self) -> bool:
        """Whether this is a folder with nothing in it."""
        info = self.fs.get_file_info(self.path)
        if info.type != pafs.FileType.Directory:
            return False
        return not self.fs.get_file_info(pafs.FileSelector(self.path, recursive=False))

    def delete(self) -> None:
        """Delete the folder if it is there; a failure is logged (cleanup must not hide the error)."""
        try:
            if self.exists():
                self.fs.delete_dir(self.path)
        except OSError as exc:
            _log.warning("staging_cleanup_failed", path=self.path, error=str(exc))


def location(root: str | os.PathLike[str]) -> Location:
    """The folder ``root`` (a local path or a URI) for Spark, pyarrow and deltalake.

    Raises:
        SerializationError: pyarrow cannot open the URI's file system from the driver.
    """
    text = os.fspath(root)
    if text.startswith("file:"):  # Spark writes local URIs as file:/path or file:///path
        text = unquote(urlparse(text).path)
    if "://" not in text:
        local = str(Path(text).expanduser().resolve())
        # not Path.as_uri(): Hadoop takes a path's characters literally, so 'my%20dir' would be a folder of its own
        return Location(f"file://{local}", pafs.LocalFileSystem(), local, local)
    scheme, rest = text.split("://", 1)
    arrow_uri = f"s3://{rest}" if scheme in ("s3a", "s3n") else text
    try:
        fs, path = pafs.FileSystem.from_uri(arrow_uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise SerializationError(f"Cannot open {text!r} from the driver with pyarrow ({exc}); use a local folder or a "
                                 "URI that pyarrow.fs supports (hdfs://, s3a://, gs://...).") from exc
    return Location(text, fs, path, arrow_uri)


