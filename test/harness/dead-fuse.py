# A FUSE mount whose daemon never answers: every access under it waits, as on an NFS mount whose
# server is gone. Mounted by hand through /dev/fuse (no FUSE library needed); "mounted" on stdout once
# it is there. When standard input closes, the connection is closed (waiting calls fail with
# ENOTCONN) and the mount detached. Needs root and /dev/fuse.
import ctypes
import os
import signal
import sys

libc = ctypes.CDLL(None, use_errno=True)
mnt = sys.argv[1]
fd = os.open("/dev/fuse", os.O_RDWR)
opts = f"fd={fd},rootmode=40000,user_id=0,group_id=0".encode()
if libc.mount(b"labsync-dead", mnt.encode(), b"fuse.labsync-dead", 0, opts) != 0:
    print(f"mount failed: {os.strerror(ctypes.get_errno())}", flush=True)
    sys.exit(1)

def done(*_):
    # Closing the connection fails what waits (ENOTCONN); the mount is detached, not left behind.
    os.close(fd)
    libc.umount2(mnt.encode(), 2)  # MNT_DETACH
    os._exit(0)


# A stopped test run (Ctrl-C, a killed worker) detaches it too.
signal.signal(signal.SIGINT, done)
signal.signal(signal.SIGTERM, done)
signal.signal(signal.SIGHUP, done)
print("mounted", flush=True)
try:
    sys.stdin.read()
finally:
    done()
