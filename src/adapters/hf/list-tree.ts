// The listing labsync compares with (issue 14): the repo's files at a revision with sizes, LFS sha256
// and git blob ids, without downloading. Run by the Python of the `hf` install (its script's #! line,
// so pipx and venv installs alike): huggingface_hub's own list_repo_tree, the API the hf CLI uses,
// pinned to the commit the revision names — one process, one commit id for the receipt, and the
// client's own typed errors (RepositoryNotFoundError, RevisionNotFoundError) instead of status codes.
// `hf models ls -R` prints no checksums and exists per repo type; olah's tree route is what it reads.
// Prints one JSON document; failures exit 3 with {"error": kind, "message"} for classify.ts.
// huggingface_hub's HTTP client has no timeout (timeout=None) and labsync's stall watchdog watches
// transfers, not listings: the last argument bounds every connect and read (the pair's stall_timeout).
export const LIST_TREE_PY = `
import json, sys
repo, repo_type, revision, sub, wait = sys.argv[1:6]
def fail(kind, message):
    print(json.dumps({"error": kind, "message": [l for l in str(message).splitlines() if l.strip()][0:3]}))
    sys.exit(3)
try:
    import httpx2
    from huggingface_hub import HfApi, set_client_factory
    from huggingface_hub.utils._http import default_client_factory
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError, HfHubHTTPError
except Exception as e:
    fail("client", e)
# Calls pass timeout=None per request, which overrides a client default: set it on each request.
def bound(request):
    request.extensions["timeout"] = httpx2.Timeout(float(wait)).as_dict()
def bounded():
    client = default_client_factory()
    client.event_hooks["request"] = [*client.event_hooks["request"], bound]
    return client
set_client_factory(bounded)
api = HfApi()
try:
    sha = api.repo_info(repo, repo_type=repo_type, revision=revision).sha
    files = []
    try:
        for e in api.list_repo_tree(repo, path_in_repo=sub or None, recursive=True, repo_type=repo_type, revision=sha):
            if not hasattr(e, "blob_id"):
                continue
            f = {"path": e.path, "size": e.size, "blob": e.blob_id}
            if e.lfs is not None:
                f["sha256"] = e.lfs.sha256
            files.append(f)
    except EntryNotFoundError:
        pass
    print(json.dumps({"revision": sha, "files": files}))
except RevisionNotFoundError as e:
    fail("revision_not_found", e)
except RepositoryNotFoundError as e:
    fail("repo_not_found", e)
except HfHubHTTPError as e:
    code = getattr(getattr(e, "response", None), "status_code", 0) or 0
    fail("unreachable" if code >= 500 or code == 429 else "auth" if code in (401, 403) else "http", e)
except OSError as e:
    fail("unreachable", e)
except Exception as e:
    name = type(e).__name__
    fail("unreachable" if "Connect" in name or "Timeout" in name or "Network" in name else "other", f"{name}: {e}")
`;
