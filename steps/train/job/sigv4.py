"""AWS Signature Version 4 for one POST to Secrets Manager (stdlib only: many example images lack boto3)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import urllib.parse

SERVICE = "secretsmanager"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sigv4_headers(
    url: str,
    body: bytes,
    headers: dict[str, str],
    credentials: dict[str, str],
    region: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """`headers` plus the SigV4 signature (service `secretsmanager`) of a POST of `body` to `url`."""
    parsed = urllib.parse.urlsplit(url)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = {key.lower(): value.strip() for key, value in headers.items()}
    signed.update({"host": parsed.netloc, "x-amz-date": stamp})
    if credentials.get("Token"):
        signed["x-amz-security-token"] = credentials["Token"]
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        [
            "POST",
            urllib.parse.quote(parsed.path or "/", safe="/~"),
            parsed.query,
            "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)),
            names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials["SecretAccessKey"]).encode("utf-8")
    for part in (day, region, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    result = dict(headers, **{"X-Amz-Date": stamp})
    if credentials.get("Token"):
        result["X-Amz-Security-Token"] = credentials["Token"]
    result["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['AccessKeyId']}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return result
