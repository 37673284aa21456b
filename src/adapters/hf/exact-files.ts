// Plans too large for hf's patterns. `hf upload --include` and `hf download --include` take one
// fnmatch pattern per planned file and test every pattern against every file of the folder or repo
// (filter_repo_objects): 20k files are 400M matches, and past ~2 MB of arguments the command cannot
// start at all (E2BIG). Such a plan runs on the same huggingface_hub the CLI runs, called the way the
// CLI calls it, with the exact paths on stdin: one create_commit of exactly the planned additions and
// deletions (the branch made first when missing, as `hf upload --revision` does), or one
// hf_hub_download per planned file, eight at a time (as snapshot_download does).
import type { PairPlan } from '../../plan/types.js';
import type { ResolvedPair } from '../../types.js';
import { hfRemote, type CommitText } from './argv.js';
import { PY_PRELUDE } from './py-prelude.js';

/** Above this many paths a plan goes through the scripts below (the CLI's matching costs files × patterns). */
export const PATTERNS_MAX = 100;

export const byScript = (paths: number): boolean => paths > PATTERNS_MAX;

// huggingface_hub calls pass no timeout: as with `hf upload`, the stall watchdog bounds a silent Hub.
const COMMIT_PY = `${PY_PRELUDE}
repo, repo_type, revision = sys.argv[1:4]
def run(doc):
    doc = json.loads(doc)
    # The commit the plan was listed at: the branch's head then (or its base's, a branch not made yet).
    # The Hub refuses the commit (412) when the branch moved since: a colleague's commit is never
    # written over by a plan that did not see it.
    parent = doc.get("parent")
    try:
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete
        api = HfApi()
        try:
            api.repo_info(repo, repo_type=repo_type, revision=revision)
        except RevisionNotFoundError:
            api.create_branch(repo, repo_type=repo_type, branch=revision, revision=parent, exist_ok=True)
        pre = doc["prefix"]
        # Only files the branch still holds: the Hub refuses a whole commit that deletes a missing one
        # (this commit landed but its answer was lost, or another client deleted it since the listing).
        there = set()
        if doc["delete"]:
            # The pair's own subfolder only (a subfolder of a large repo would list the whole repo).
            try:
                for e in api.list_repo_tree(repo, path_in_repo=pre.rstrip("/") or None, recursive=True, revision=revision, repo_type=repo_type):
                    if hasattr(e, "blob_id"):
                        there.add(e.path)
            except EntryNotFoundError:
                pass
        ops = [CommitOperationDelete(path_in_repo=pre + p) for p in doc["delete"] if pre + p in there]
        ops += [CommitOperationAdd(path_in_repo=pre + p, path_or_fileobj=os.path.join(doc["root"], p)) for p in doc["add"]]
        info = api.create_commit(repo, ops, commit_message=doc["summary"], commit_description=doc["description"], revision=revision, repo_type=repo_type, parent_commit=parent)
    except Exception as e:
        if isinstance(e, HfHubHTTPError) and (getattr(getattr(e, "response", None), "status_code", 0) or 0) == 412:
            fail("moved", e)
        failed(e)
    print(json.dumps({"url": info.commit_url}))
`;

const DOWNLOAD_PY = `${PY_PRELUDE}
repo, repo_type, revision, local_dir = sys.argv[1:5]
def run(doc):
    from concurrent.futures import ThreadPoolExecutor, as_completed, wait
    from huggingface_hub import hf_hub_download
    paths = json.loads(doc)
    def one(p):
        hf_hub_download(repo, p, repo_type=repo_type, revision=revision, local_dir=local_dir, force_download=True)
    pool = ThreadPoolExecutor(8)
    futures = [pool.submit(one, p) for p in paths]
    try:
        for f in as_completed(futures):
            f.result()
    except Exception as e:
        # The first failure ends the pull: nothing more is started, and the downloads under way may
        # finish (each has already removed the file it replaces) for up to 30 s, so the failure is
        # said well within the stall watchdog's time even when the Hub hangs them.
        pool.shutdown(wait=False, cancel_futures=True)
        wait([f for f in futures if f.running()], timeout=30)
        failed(e)
    pool.shutdown(wait=True)
    print(json.dumps({"downloaded": len(paths)}))
`;

/** The script with its data as one Python string literal (JSON's escapes are Python's), called last. */
export const withData = (script: string, data: unknown): string => `${script}\nrun(${JSON.stringify(JSON.stringify(data))})\n`;

/**
 * Runs the program on stdin read in one go, as UTF-8: `python -` reads its program one byte per read(2)
 * (a 120k-path plan: 5.5M reads, 1.8 s before any work). sys.argv is then ['-c', ...the arguments].
 */
export const BOOT = 'import sys; exec(compile(sys.stdin.buffer.read().decode("utf-8"), "labsync-hf", "exec"))';

export interface ScriptCall { readonly args: string[]; readonly input: string; readonly inputNote: string }

/**
 * One commit of exactly the plan's sends and deletions; prints {"url": ".../commit/<sha>"} as `hf upload
 * --json` does. `parent`: the commit the plan was listed at, which the branch must still be at.
 */
export function commitCall(pair: ResolvedPair, plan: PairPlan, text: CommitText, parent?: string): ScriptCall {
  const r = hfRemote(pair);
  const doc = {
    ...(parent ? { parent } : {}),
    root: pair.local,
    prefix: r.path ? `${r.path}/` : '',
    add: [...plan.send, ...plan.replace].map((f) => f.path),
    delete: plan.delete.map((f) => f.path),
    summary: text.summary,
    description: text.description,
  };
  return { args: ['-c', BOOT, r.repo, r.repoType, r.revision], input: withData(COMMIT_PY, doc), inputNote: `(script: one commit adding ${doc.add.length} files, deleting ${doc.delete.length})` };
}

/** Exactly `paths` into the pair's folder at `at` (the listed commit), each fetched again (--force-download's reason, argv.ts). */
export function downloadCall(pair: ResolvedPair, paths: readonly string[], at?: string): ScriptCall {
  const r = hfRemote(pair);
  return { args: ['-c', BOOT, r.repo, r.repoType, at ?? r.revision, pair.local], input: withData(DOWNLOAD_PY, paths), inputNote: `(script: ${paths.length} files to download)` };
}
