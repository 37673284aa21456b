export const STARTER_MANIFEST = `# labsync manifest: every key is described in the "The manifest" section of labsync's README.md
# (editor completion: labsync schema > labsync.schema.json)
version: 1

defaults:                  # every pair gets these unless it says otherwise
  retries: 3               # transient failures only, with backoff
  timeout: 2h              # per attempt
  stall_timeout: 2m        # no progress this long: stop the tool, retry
  exclude: ["*.tmp", "__pycache__/**", ".DS_Store", ".ipynb_checkpoints/**"]
  verify: checksum         # checksum | size | none — runs after every transfer
  # full_check: 7d         # now and then verify as \`check --full\` does (bit rot); not for git or dvc pairs
  concurrency: 2           # pairs at once

remotes:
  nas: { type: local, path: "\${LABSYNC_NAS:-../labsync-remote}" }
  # gpu:    { type: ssh, host: cloud-gpu, user: ubuntu, port: 22, identity: ~/.ssh/cloud-key.pem, path: /home/ubuntu/ai-lab }
  #         # control_persist: 60s (default) keeps the connection open after a run for the next one (no login); 0: off
  # lab-s3: { type: s3, bucket: my-bucket, prefix: ai-lab, region: us-west-2, profile: lab }
  # reg:    { type: mlflow, tracking_uri: "\${MLFLOW_TRACKING_URI}", model: my-classifier, experiment: labsync }
  # hub:    { type: hf, repo: my-org/my-model, repo_type: model, revision: main }   # token: HF_TOKEN or \`hf auth login\`; create: true lets a push make the repo (private)

data:
  - name: datasets
    local: data
    remote: nas:data
    mode: push             # push | pull
    delete: true           # mirror: remove at the destination what the source lacks...
    max_delete: 10%        # ...but refuse a run that would delete more than this
    backup: true           # replaced and deleted files go to .labsync-backup/<time>/ at the destination
    # shards: 4            # split across 4 workers: \`--shard K/4\`, or K from a Slurm array / Kubernetes Indexed Job
    # remote_lock: true    # lock at the remote too, so two machines never run this pair at once (default for mirrors and bisync)

models:
  - name: checkpoints
    local: models
    remote: nas:models
    exclude: ["*.lock"]
    # snapshots: { keep: 7 }  # dated complete trees, unchanged files hard-linked; \`latest\` names the newest (local/ssh push)
    # compress: true          # on an ssh remote: compress on the wire (weights and archives go uncompressed)
    # schedule: "0 * * * *"   # for \`labsync schedule\`
    # tags: [hourly, drain]   # run with --tag hourly; \`labsync drain\` pushes the pairs tagged drain, newest files first
    # drain_marker: COMPLETE  # written at the destination last by \`labsync drain\`, only when everything was sent and verified
  # - name: classifier         # an MLflow model registry: each push that changes the folder is a new version
  #   local: models/classifier
  #   remote: reg
  #   mode: push               # pull: the files of alias: (or version: N), checked against its SHA256SUMS
  #   alias: champion          # point this alias at the version pushed
  # - name: release          # a Hugging Face Hub repo (tool hf, the \`hf\` CLI): push = one commit, pull = the files at revision
  #   local: models/release
  #   remote: hub            # or hub:checkpoints for a subfolder of the repo (push only)
  #   mode: push             # pull: a branch, a tag or a 40-hex commit as the remote's revision pins it
  #   delete: true           # the commit also removes files the folder lacks (guarded by max_delete)

  # - name: notes             # both sides edited: rclone bisync
  #   tool: rclone
  #   local: notes
  #   remote: nas:notes
  #   mode: bisync            # the first run is \`labsync sync notes --resync\`, never automatic
  #   conflict: newer         # newer | older | larger | smaller | path1 | path2 | keep-both (default); rclone >= 1.66 except keep-both
  #   compare: size,modtime,checksum   # rclone >= 1.66
`;
