#!/usr/bin/python3
"""threads-workload.py DIR N - a threaded program for the tests of libtrackle.so's lock
(test-preload.py "threads", test-tk-threads.py): run under the library in a session.

One thread rewrites the N existing files DIR/a0 .. DIR/a<N-1> in place (a BEFORE each,
answered only once trackled has read the file); another creates DIR/b0, DIR/b1 ... all the
while (at least 20, at most 20,000). Then DIR/done. Prints "made=<files created> pid=<pid>".
Run with python3 -B: nothing else of its own is written."""
import os
import sys
import threading

d, n = sys.argv[1], int(sys.argv[2])
running, done = threading.Event(), threading.Event()
made = []


def writer():
    for i in range(n):
        with open("%s/a%d" % (d, i), "r+") as f:
            f.write("x")
    done.set()


def creator():
    i = 0
    while i < 20000 and (i < 20 or not done.is_set()):
        open("%s/b%d" % (d, i), "w").close()
        i += 1
        if i == 20:
            running.set()
    made.append(i)


c = threading.Thread(target=creator)
c.start()
running.wait()
w = threading.Thread(target=writer)
w.start()
w.join()
c.join()
open(d + "/done", "w").close()
print("made=%d pid=%d" % (made[0], os.getpid()))
