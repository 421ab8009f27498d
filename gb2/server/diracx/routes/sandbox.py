"""Sandboxes: DiracX's sandbox routes and an S3-like store with presigned POST/GET.

The client uploads exactly as it does to DiracX: ``POST /api/jobs/sandbox`` with
the archive's sha256 and size returns a PFN and a presigned multipart POST (URL +
form fields, signature over a policy); downloads go through ``GET
/api/jobs/sandbox?pfn=`` which returns a presigned GET URL. The signatures are
HMAC-SHA256 with a server secret: the same shapes as S3, not S3's SigV4.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from gb2.fileio import write_all
from gb2.server import keys
from gb2.server.auth import AuthorizedUser
from gb2.server.diracx.jobdb import JobDB, now_ts
from gb2.server.diracx.routes.jobs import body_job_ids, caller_of
from gb2.server.http import ApiError, diracx_route, json_response, read_json, threadpool
from gb2.server.state import ServerState

BUCKET = "sandboxes"
SE_NAME = "SandboxSE"
FORMATS = ("tar.bz2", "tar.zst")
MAX_SANDBOX_BYTES = 200 * 1024 * 1024
URL_LIFETIME = 300
#: A sandbox's owner: (user name, group, VO).
Owner = tuple[str, str, str]

SCHEMA = """
CREATE TABLE IF NOT EXISTS sandboxes (
    PFN TEXT PRIMARY KEY,
    Owner TEXT NOT NULL,
    OwnerGroup TEXT NOT NULL,
    VO TEXT NOT NULL,
    Bytes INTEGER NOT NULL,
    Checksum TEXT NOT NULL,
    Format TEXT NOT NULL,
    Created TEXT NOT NULL,
    LastAccess TEXT
);
CREATE TABLE IF NOT EXISTS sandbox_jobs (
    PFN TEXT NOT NULL,
    JobID INTEGER NOT NULL,
    Type TEXT NOT NULL,
    PRIMARY KEY (PFN, JobID, Type)
);
CREATE INDEX IF NOT EXISTS sandbox_jobs_job ON sandbox_jobs(JobID);
"""


class SandboxStore:
    """Sandbox metadata in SQLite and archives on disk, addressed by S3-style keys."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.db = state.db
        self.root = state.settings.sandbox_root
        self.root.mkdir(parents=True, exist_ok=True)
        self.db.apply_schema(SCHEMA)
        self.secret = keys.secret(state.settings.data_dir / "keys" / "s3-secret")

    # -- naming ----------------------------------------------------------------------
    @staticmethod
    def prefix(vo: str, group: str, user: str) -> str:
        return f"/S3/{BUCKET}/{vo}/{group}/{user}/"

    def pfn_for(self, owner: Owner, checksum: str, fmt: str) -> str:
        user, group, vo = owner
        return f"{self.prefix(vo, group, user)}sha256:{checksum}.{fmt}"

    @staticmethod
    def strip_se(pfn: str) -> str:
        """``SB:SandboxSE|/S3/...`` -> ``/S3/...``."""
        return pfn.split("|", 1)[1] if pfn.startswith("SB:") else pfn

    def key_of(self, pfn: str) -> str:
        path = self.strip_se(pfn)
        head = f"/S3/{BUCKET}/"
        if not path.startswith(head):
            raise ApiError(400, f"Invalid PFN {pfn}")
        return path[len(head) :]

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ApiError(400, "Invalid sandbox key")
        return path

    # -- signing ---------------------------------------------------------------------
    def _sign(self, message: str) -> str:
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()

    def presigned_post(self, key: str, checksum: str, size: int) -> dict:
        now = datetime.now(timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        sha_b64 = base64.b64encode(bytes.fromhex(checksum)).decode()
        credential = f"gb2/{now:%Y%m%d}/local/s3/aws4_request"
        expiration = datetime.fromtimestamp(time.time() + URL_LIFETIME, timezone.utc)
        policy_doc = {
            "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conditions": [
                ["content-length-range", size, size],
                {"x-amz-checksum-algorithm": "sha256"},
                {"x-amz-checksum-sha256": sha_b64},
                {"bucket": BUCKET},
                {"key": key},
                {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                {"x-amz-credential": credential},
                {"x-amz-date": amz_date},
            ],
        }
        policy = base64.b64encode(json.dumps(policy_doc).encode()).decode()
        return {
            "url": f"{self.state.base_url}/s3/{BUCKET}",
            "fields": {
                "x-amz-checksum-algorithm": "sha256",
                "x-amz-checksum-sha256": sha_b64,
                "key": key,
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": credential,
                "x-amz-date": amz_date,
                "policy": policy,
                "x-amz-signature": self._sign(policy),
            },
        }

    def presigned_get(self, key: str) -> str:
        amz_date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        signature = self._sign(f"GET\n{key}\n{amz_date}\n{URL_LIFETIME}")
        return (
            f"{self.state.base_url}/s3/{BUCKET}/{quote(key)}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential=gb2%2Flocal&X-Amz-Date={amz_date}&X-Amz-Expires={URL_LIFETIME}"
            f"&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        )

    def check_get_signature(self, key: str, params: dict[str, str]) -> None:
        try:
            amz_date = params["X-Amz-Date"]
            expires = int(params["X-Amz-Expires"])
            signature = params["X-Amz-Signature"]
            issued = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except (KeyError, ValueError) as exc:
            raise ApiError(403, "Request has missing or invalid signature parameters") from exc
        expected = self._sign(f"GET\n{key}\n{amz_date}\n{expires}")
        if not hmac.compare_digest(expected, signature):
            raise ApiError(403, "SignatureDoesNotMatch")
        if issued.timestamp() + expires < time.time():
            raise ApiError(403, "Request has expired")

    # -- metadata --------------------------------------------------------------------
    def register(self, owner: Owner, pfn: str, checksum: str, size: int, fmt: str) -> None:
        with self.db.write() as c:
            c.execute("INSERT OR IGNORE INTO sandboxes VALUES (?,?,?,?,?,?,?,?,NULL)",
                      (pfn, *owner, size, checksum, fmt, now_ts()))  # fmt: skip

    def write_object(self, key: str, source: BinaryIO, check: Callable[[int, bytes], None]) -> None:
        """Store an object: written whole under a temporary name, then ``check(size, sha256
        digest)`` (which raises to refuse it), then renamed: no half-written object is ever seen."""
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        digest = hashlib.sha256()
        size = 0
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
                    size += write_all(fd, chunk)
            finally:
                os.close(fd)
            check(size, digest.digest())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def put_archive(self, owner: Owner, data: bytes, fmt: str = "tar.bz2") -> str:
        """A sandbox stored by the server itself (the engine's output sandboxes): registered to
        ``owner`` and written as an upload would be, deduplicated by checksum; its ``SB:`` PFN."""
        checksum = hashlib.sha256(data).hexdigest()
        pfn = self.pfn_for(owner, checksum, fmt)
        self.register(owner, pfn, checksum, len(data), fmt)
        key = self.key_of(pfn)
        if not self.path_of(key).exists():
            self.write_object(key, io.BytesIO(data), lambda size, digest: None)
        return f"SB:{SE_NAME}|{pfn}"

    def owner(self, pfn: str) -> Owner | None:
        rows = self.db.execute("SELECT Owner, OwnerGroup, VO FROM sandboxes WHERE PFN=?", (self.strip_se(pfn),))
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def assign(self, job_id: int, pfn: str, kind: str) -> None:
        with self.db.write() as c:
            c.execute("INSERT OR IGNORE INTO sandbox_jobs VALUES (?,?,?)", (self.strip_se(pfn), job_id, kind))

    def job_sandboxes(self, job_id: int) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"Input": [], "Output": []}
        for r in self.db.execute("SELECT PFN, Type FROM sandbox_jobs WHERE JobID=? ORDER BY rowid", (job_id,)):
            out.setdefault(r["Type"], []).append(r["PFN"])
        return out

    def unassign(self, job_ids: list[int]) -> None:
        with self.db.write() as c:
            c.executemany("DELETE FROM sandbox_jobs WHERE JobID=?", [(j,) for j in job_ids])


def setup(state: ServerState) -> None:
    state.services["sandboxes"] = SandboxStore(state)


def routes(state: ServerState) -> list[Route]:
    store: SandboxStore = state.services["sandboxes"]
    jobs: JobDB = state.services["jobs"]
    authority = state.authority

    def user_of(request: Request) -> AuthorizedUser:
        return authority.authorize_header(request.headers.get("authorization"))

    def check_pfn_owner(user: AuthorizedUser, pfn: str) -> None:
        """DiracX's sandbox policy: the PFN must sit under the caller's own prefix."""
        if user.is_job_admin:
            return
        prefix = store.prefix(user.vo, user.group, user.username)
        if not store.strip_se(pfn).startswith(prefix):
            raise ApiError(403, f"Invalid PFN. PFN must start with {prefix}")

    @diracx_route
    async def initiate_upload(request: Request) -> Response:
        user = user_of(request)
        if "NormalUser" not in user.properties:
            raise ApiError(403, "Forbidden")
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(422, "Invalid sandbox info")
        checksum = str(body.get("checksum", "")).lower()
        size = body.get("size")
        fmt = body.get("format")
        if body.get("checksum_algorithm") != "sha256" or len(checksum) != 64 or not all(
            ch in "0123456789abcdef" for ch in checksum
        ):
            raise ApiError(422, "checksum must be a sha256 hex digest")
        if not isinstance(size, int) or size < 1:
            raise ApiError(422, "size must be a positive integer")
        if fmt not in FORMATS:
            raise ApiError(422, f"format must be one of {', '.join(FORMATS)}")
        if size > MAX_SANDBOX_BYTES:
            raise ApiError(400, f"Sandbox too large: {size} bytes (maximum {MAX_SANDBOX_BYTES})")
        owner = (user.username, user.group, user.vo)
        pfn = store.pfn_for(owner, checksum, fmt)
        await threadpool(store.register, owner, pfn, checksum, size, fmt)
        key = store.key_of(pfn)
        full_pfn = f"SB:{SE_NAME}|{pfn}"
        if store.path_of(key).exists():
            return json_response({"pfn": full_pfn, "url": None, "fields": {}})
        return json_response({"pfn": full_pfn, **store.presigned_post(key, checksum, size)})

    @diracx_route
    async def download_url(request: Request) -> Response:
        user = user_of(request)
        pfn = request.query_params.get("pfn")
        if not pfn:
            raise ApiError(422, "pfn is required")
        check_pfn_owner(user, pfn)
        owner = await threadpool(store.owner, pfn)
        if owner is None:
            raise ApiError(404, "Sandbox not found")
        if not user.is_job_admin and owner != (user.username, user.group, user.vo):
            raise ApiError(403, "You are not the owner of the sandbox")
        return json_response({"url": store.presigned_get(store.key_of(pfn)), "expires_in": URL_LIFETIME})

    def job_id_of(request: Request) -> int:
        try:
            return int(request.path_params["job_id"])
        except ValueError as exc:
            raise ApiError(422, "job_id must be an integer") from exc

    @diracx_route
    async def job_sandboxes(request: Request) -> Response:
        user = user_of(request)
        job_id = job_id_of(request)
        await threadpool(jobs.check_access, caller_of(user), [job_id])
        return json_response(await threadpool(store.job_sandboxes, job_id))

    @diracx_route
    async def job_sandbox_kind(request: Request) -> Response:
        user = user_of(request)
        job_id = job_id_of(request)
        kind = request.path_params["kind"].lower()
        if kind not in ("input", "output"):
            raise ApiError(422, "sandbox type must be input or output")
        await threadpool(jobs.check_access, caller_of(user), [job_id])
        found = await threadpool(store.job_sandboxes, job_id)
        return json_response(found["Input" if kind == "input" else "Output"])

    @diracx_route
    async def assign_output(request: Request) -> Response:
        user = user_of(request)
        job_id = job_id_of(request)
        pfn = await read_json(request)
        if not isinstance(pfn, str):
            raise ApiError(422, "The body must be the sandbox PFN as a JSON string")
        check_pfn_owner(user, pfn)
        await threadpool(jobs.check_access, caller_of(user), [job_id])
        if await threadpool(store.owner, pfn) is None:
            raise ApiError(404, "Sandbox not found")
        await threadpool(store.assign, job_id, pfn, "Output")
        return json_response(None)

    @diracx_route
    async def unassign_job(request: Request) -> Response:
        user = user_of(request)
        job_id = job_id_of(request)
        await threadpool(jobs.check_access, caller_of(user), [job_id])
        await threadpool(store.unassign, [job_id])
        return json_response(None)

    @diracx_route
    async def unassign_bulk(request: Request) -> Response:
        user = user_of(request)
        ids = body_job_ids(await read_json(request))
        await threadpool(jobs.check_access, caller_of(user), ids)
        await threadpool(store.unassign, ids)
        return Response(status_code=204)

    # -- the S3-like store -----------------------------------------------------------
    @diracx_route
    async def s3_post(request: Request) -> Response:
        if request.path_params["bucket"] != BUCKET:
            raise ApiError(404, "NoSuchBucket")
        form = await request.form(max_files=1, max_fields=20, max_part_size=MAX_SANDBOX_BYTES)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "POST requires exactly one file upload per request")
        policy = fields.get("policy", "")
        if not hmac.compare_digest(store._sign(policy), fields.get("x-amz-signature", "")):
            raise ApiError(403, "SignatureDoesNotMatch")
        doc = json.loads(base64.b64decode(policy))
        expiration = datetime.strptime(doc["expiration"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=timezone.utc)
        if expiration.timestamp() < time.time():
            raise ApiError(403, "Invalid according to Policy: Policy expired")
        expected = {k: v for cond in doc["conditions"] if isinstance(cond, dict) for k, v in cond.items()}
        for name, value in expected.items():
            if name != "bucket" and fields.get(name) != value:
                raise ApiError(403, f"Invalid according to Policy: Policy Condition failed: {name}")
        size_range = next(c for c in doc["conditions"] if isinstance(c, list))

        def check(size: int, digest: bytes) -> None:
            if not size_range[1] <= size <= size_range[2]:
                raise ApiError(400, "EntityTooSmall" if size < size_range[1] else "EntityTooLarge")
            if base64.b64encode(digest).decode() != fields["x-amz-checksum-sha256"]:
                raise ApiError(400, "BadDigest: the sha256 of the upload does not match")

        upload.file.seek(0)
        await threadpool(store.write_object, fields["key"], upload.file, check)
        return Response(status_code=204)

    @diracx_route
    async def s3_get(request: Request) -> Response:
        if request.path_params["bucket"] != BUCKET:
            raise ApiError(404, "NoSuchBucket")
        key = request.path_params["key"]
        store.check_get_signature(key, dict(request.query_params))
        path = store.path_of(key)
        if not path.is_file():
            raise ApiError(404, "NoSuchKey")
        return FileResponse(path, media_type="application/octet-stream")

    return [
        Route("/api/jobs/sandbox", initiate_upload, methods=["POST"]),
        Route("/api/jobs/sandbox", download_url, methods=["GET"]),
        Route("/api/jobs/sandbox/unassign", unassign_bulk, methods=["POST"]),
        Route("/api/jobs/{job_id}/sandbox", job_sandboxes, methods=["GET"]),
        Route("/api/jobs/{job_id}/sandbox", unassign_job, methods=["DELETE"]),
        Route("/api/jobs/{job_id}/sandbox/output", assign_output, methods=["PATCH"]),
        Route("/api/jobs/{job_id}/sandbox/{kind}", job_sandbox_kind, methods=["GET"]),
        Route("/s3/{bucket}", s3_post, methods=["POST"]),
        Route("/s3/{bucket}/{key:path}", s3_get, methods=["GET"]),
    ]
