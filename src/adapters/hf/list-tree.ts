// The listing labsync compares with (issue 14): the repo's files at a revision with sizes, LFS sha256
// and git blob ids, without downloading. Run by the Python of the `hf` install (its script's #! line,
// so pipx and venv installs alike): huggingface_hub's own list_repo_tree, the API the hf CLI uses,
// pinned to the commit the revision names — one process, one commit id for the receipt, and the
// client's own typed errors (RepositoryNotFoundError, RevisionNotFoundError) instead of status codes.
// `hf models ls -R` prints no checksums and exists per repo type; olah's tree route is what it reads.
// Prints one JSON document; failures exit 3 with {"error": kind, "message"} for classify.ts.
// huggingface_hub's HTTP client has no timeout (timeout=None) and labsync's stall watchdog watches
// transfers, not listings: the last argument bounds every connect and read (the pair's stall_timeout).
import { PY_PRELUDE } from './py-prelude.js';

export const LIST_TREE_PY = `${PY_PRELUDE}
repo, repo_type, revision, sub, wait = sys.argv[1:6]
base = sys.argv[6:7] == ["base"]
unmade = None
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
    try:
        sha = api.repo_info(repo, repo_type=repo_type, revision=revision).sha
    except RevisionNotFoundError:
        # A push makes the branch from main's head (create_branch's base when none is named, as hf
        # upload and labsync's own commit path call it): its files are what the branch starts with,
        # so the plan (and its deletions) is made against them, not against nothing.
        if not base:
            raise
        sha = api.repo_info(repo, repo_type=repo_type, revision="main").sha
        unmade = revision
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
    print(json.dumps({"revision": sha, "files": files, **({"unmade": unmade} if unmade else {})}))
except Exception as e:
    failed(e)
`;
