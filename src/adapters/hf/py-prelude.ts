// The start of every Python script labsync runs on the hf install's own Python (list-tree.ts,
// exact-files.ts): the client's imports, and one way to fail. A failure prints one JSON document,
// {"error": kind, "message": [lines]}, and exits 3 at once (threads still downloading do not hold the
// exit); classify.ts reads the kind. The kind comes from the client's own typed errors, not status codes.
export const PY_PRELUDE = `
import json, os, sys
def fail(kind, message):
    print(json.dumps({"error": kind, "message": [l for l in str(message).splitlines() if l.strip()][0:3]}))
    sys.stdout.flush()
    os._exit(3)
try:
    import httpx2
    from huggingface_hub import HfApi, set_client_factory
    from huggingface_hub.utils._http import default_client_factory
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError, HfHubHTTPError
except Exception as e:
    fail("client", e)
def failed(e):
    # The client wraps some failures (force_download's "Force download failed", a local entry not
    # found) in a ValueError whose cause is the real one: judged by that.
    while isinstance(e, ValueError) and e.__cause__ is not None:
        e = e.__cause__
    # HF_HUB_OFFLINE=1 (common on clusters) is a ConnectionError: said, never retried.
    if type(e).__name__ == "OfflineModeIsEnabled":
        fail("offline", e)
    if isinstance(e, RevisionNotFoundError):
        fail("revision_not_found", e)
    if isinstance(e, RepositoryNotFoundError):
        fail("repo_not_found", e)
    if isinstance(e, HfHubHTTPError):
        code = getattr(getattr(e, "response", None), "status_code", 0) or 0
        fail("unreachable" if code >= 500 or code == 429 else "auth" if code in (401, 403) else "http", e)
    # A local file gone or unreadable is not the Hub's: trying again sends the same list.
    if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        fail("other", f"{type(e).__name__}: {e}")
    # A connection reset, refused or cut mid-answer (httpx2 raises its own, not OSError): try again.
    if isinstance(e, httpx2.TransportError) and not isinstance(e, (httpx2.ProxyError, httpx2.UnsupportedProtocol)):
        fail("unreachable", f"{type(e).__name__}: {e}")
    if isinstance(e, OSError):
        fail("unreachable", e)
    name = type(e).__name__
    fail("unreachable" if "Connect" in name or "Timeout" in name or "Network" in name else "other", f"{name}: {e}")
`;
