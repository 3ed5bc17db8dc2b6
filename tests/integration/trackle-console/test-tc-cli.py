#!/usr/bin/python3
"""test-tc-cli.py - trackle's screen (trackle with no arguments on a terminal) driven in tmux
through the console workflow of the paper: the overview (columns, filter, sort), pick a
ticket, edit a field from a pick-list and one as text, edit the description with a scripted
$EDITOR and save with a changelog message, start a tracked shell (its prompt says Trackle),
change files, exit, choose the files the web shows, and check what trackled recorded; a
ticket locked by someone else says by whom and since when; a new ticket; resizing; a killed
screen saves nothing and keeps no lock. argv: TRACKLED TRACKLE LIBTRACKLE TRACKLE_LOGINUID."""

import os
import shutil
import signal
import threading

import tk_harness as tk
import tmux_pane

EDITOR = """#!/bin/sh
# test editor: the changelog template gets a message, anything else a new description
if grep -q '^# The changelog message' "$1"; then
        printf 'Fixed the aliases.\\n' > "$1"
elif [ -s "$1" ]; then
        printf 'Bounces come from a bad alias.\\nSee /etc/aliases \\342\\234\\223\\n' > "$1"
else
        printf 'Smoke from the printer.\\n' > "$1"
fi
"""


def main(t):
    if not shutil.which("tmux"):
        tk.skip("tmux is not installed")
    rpc = tk.rpc
    for comp in ("mail", "web"):
        rpc({"op": "enum.add", "type": "component", "name": comp})
    t1 = rpc({"op": "ticket.new", "summary": "mail bounces",
              "description": "Lists bounce since Tuesday.\n"})["ticket"]["id"]
    t2 = rpc({"op": "ticket.new", "summary": "disk full on web1"})["ticket"]["id"]
    t3 = rpc({"op": "ticket.new", "summary": "printer jam (locked)"})["ticket"]["id"]
    editor = tk.write(os.path.join(t.scratch, "editor.sh"), EDITOR, 0o755)
    target = os.path.join(t.scratch, "aliases")
    tk.write(target, "postmaster: root\n", 0o644, (t.uid(t.admin), t.pw(t.admin).pw_gid))

    # ticket 3 is locked by the other admin's open session
    fifo = os.path.join(t.scratch, "hold")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    holder = threading.Thread(
        target=lambda: t.shell(f"cat {tk.q(fifo)} >/dev/null", user=t.admin2, ticket=t3))
    holder.start()
    tk.wait_until(lambda: rpc({"op": "ticket.show", "id": t3})["ticket"]["lock"],
                  "ticket 3 to be locked")

    sock = os.path.join(t.scratch, "tmux.sock")
    pane = tmux_pane.Pane(lambda cmd: t.as_user(t.admin, cmd, extra_env={"TERM": "xterm"}),
                          sock, 80, 24)
    env = {"EDITOR": editor, "VISUAL": editor, "LANG": "C.UTF-8", "TERM": "xterm-256color"}
    try:
        pane.start(f"exec {tk.q(t.trackle)}", env)
        s = pane.wait("mail bounces", "the overview")
        lines = s.split("\n")
        t.expect("trackle — 3 open tickets" in lines[0], "title: the number of open tickets", s)
        t.expect(all(h in lines[1] for h in ("#", "Summary", "Owner", "Last change")),
                 "the default columns: id, summary, owner, last change", lines[1])
        t.expect("q quit" in s.rstrip("\n").split("\n")[-1],
                 "the help bar with the keys, whole at 80x24", s)

        # filter, then sort
        pane.keys("/")
        pane.type("disk")
        pane.keys("Enter")
        s = pane.wait(lambda x: "matching 'disk'" in x, "the filter")
        t.expect("disk full" in s and "mail bounces" not in s, "/ filters the list", s)
        pane.keys("/", "C-u", "Enter")
        pane.wait(lambda x: "mail bounces" in x and "matching" not in x, "the filter cleared")
        pane.keys("S")
        s = pane.wait(lambda x: "▼" in x, "sort reversed")
        rows = s.split("\n")[2:5]
        t.expect(rows[0].lstrip().startswith(str(t3)), "S reverses the order", rows)
        pane.keys("S")
        s = pane.wait(lambda x: "▲" in x, "sort back")
        pane.keys("c")
        pane.wait("Columns", "the column chooser")
        pane.keys("Down", "Down", "Space", "End", "Space", "Enter")   # status, lock on
        s = pane.wait(lambda x: "Status" in x.split("\n")[1], "the status column")
        t.expect("new" in s.split("\n")[2], "c adds a column", s)
        row3 = [ln for ln in s.split("\n") if "printer jam" in ln]
        t.expect(row3 and t.admin2 in row3[0], "the lock column names who holds the lock", row3)

        # open ticket 1, edit component (pick-list) and owner (text)
        pane.keys("Home", "Enter")
        s = pane.wait(f"Ticket #{t1}: mail bounces", "the detail screen")
        t.expect("Lists bounce since Tuesday." in s and "Description" in s,
                 "the description below the fields", s)
        pane.keys(*["Down"] * 6, "Enter")
        s = pane.wait(lambda x: "(none)" in x and " web" in x, "the component pick-list")
        pane.keys("Down", "Enter")
        s = pane.wait(lambda x: "*Component   mail" in x, "component set")
        pane.keys(*["Up"] * 4, "Enter")
        pane.wait("Owner:", "the owner line editor")
        pane.type("melvin")
        pane.keys("Enter")
        s = pane.wait(lambda x: "*Owner       melvin" in x, "owner set")
        t.expect("not saved" in s, "unsaved changes are marked", s)
        t.expect(rpc({"op": "ticket.show", "id": t1})["ticket"]["owner"] == "",
                 "nothing is stored before saving")
        pane.keys("d")
        s = pane.wait("Bounces come from a bad alias.", "the edited description")
        pane.keys("s")
        s = pane.wait(f"Ticket #{t1} saved.", "saving")
        tk1 = rpc({"op": "ticket.show", "id": t1})["ticket"]
        t.expect(tk1["component"] == "mail" and tk1["owner"] == "melvin" and
                 tk1["description"] == "Bounces come from a bad alias.\nSee /etc/aliases ✓\n",
                 "saved: the fields and the description, exactly", tk1)
        comments = [h["comment"] for h in tk1["history"] if h["field"] == "comment"]
        t.expect(comments == ["Fixed the aliases."], "the changelog message from $EDITOR",
                 tk1["history"])

        # a tracked shell for the ticket
        pane.keys("t")
        s = pane.wait(lambda x: any(ln.startswith("Trackle ") and ln.rstrip().endswith("$")
                                    for ln in x.split("\n")),
                      "the tracked shell's prompt, 'Trackle' from trackle-shell-prompt", 30)
        t.expect(True, "the tracked shell's prompt starts with 'Trackle'")
        coloured = [ln for ln in pane.screen(escapes=True).split("\n") if "Trackle" in ln and
                    "$" in ln]
        t.expect(coloured and "32m" in coloured[-1] and "\x1b[" in coloured[-1].split("Trackle")[0],
                 "on a colour terminal the prefix is green", coloured)
        pane.type(f"echo 'mailer-daemon: root' >> {target}; echo new > {target}.new; exit")
        pane.keys("Enter")
        s = pane.wait("changed files", "the files screen", 30)
        t.expect(target in s and f"{target}.new" in s and "[x]" in s,
                 "the changed files, all shown by default", s)
        pane.keys("Down", "Space", "s")
        s = pane.wait("the web shows 1 of 2 files", "the selection saved")
        tk1 = rpc({"op": "ticket.show", "id": t1})["ticket"]
        sid = tk1["sessions"][-1]
        sess = t.show(sid)
        shown = {f["path"]: f["shown"] for f in sess["files"]}
        t.expect(shown == {target: True, f"{target}.new": False},
                 "session.files: the selection is stored", shown)
        t.expect(sess["ticket"] == t1 and tk1["lock"] is None,
                 "the session belongs to the ticket, which is unlocked again", tk1["lock"])
        f = t.file(sess, target)
        t.expect(f and "+mailer-daemon: root" in (f.get("diff") or ""), "the change is recorded",
                 f)
        t.expect(any("mailer-daemon" in (c.get("line") or "") for c in sess["commands"]),
                 "the typed line is recorded", sess["commands"])

        # the locked ticket
        pane.keys("q")
        pane.wait(lambda x: "trackle —" in x, "back to the overview")
        pane.keys("End", "Enter")
        s = pane.wait(f"Ticket #{t3}:", "ticket 3")
        t.expect(f"locked by {t.admin2}" in s and "since 20" in s,
                 "a ticket locked by someone else says by whom and since when", s)
        pane.keys("Enter")
        s = pane.wait("cannot be edited now", "editing refused")
        pane.keys("t")
        s = pane.wait("T takes the lock over", "the shell refused")

        # a new ticket
        pane.keys("q")
        pane.wait(lambda x: "trackle —" in x, "the overview again")
        pane.keys("n")
        pane.wait("New ticket, summary:", "the new ticket prompt")
        pane.type("printer on fire")
        pane.keys("Enter")
        s = pane.wait("printer on fire", "the new ticket's detail")
        new = [x for x in rpc({"op": "ticket.list"})["tickets"]
               if x["summary"] == "printer on fire"]
        t.expect(new and new[0]["description"] == "Smoke from the printer.\n",
                 "n makes a ticket with its description from $EDITOR", new)

        # resize
        pane.tmux("resize-window", "-t", "0", "-x", "130", "-y", "40")
        s = pane.wait(lambda x: len(x.split("\n")[0].rstrip()) > 0 and
                      "q back" in x.rstrip("\n").split("\n")[-1] and len(x.split("\n")) >= 40,
                      "the screen redrawn at 130x40")
        pane.tmux("resize-window", "-t", "0", "-x", "60", "-y", "20")
        pane.wait("needs 80x24", "the too-small notice")
        pane.tmux("resize-window", "-t", "0", "-x", "80", "-y", "24")
        pane.wait("printer on fire", "back at 80x24")

        # a killed screen: unsaved edits are gone, no lock
        pane.keys("Enter")
        pane.wait("Summary:", "editing the summary")
        pane.keys("C-u")
        pane.type("half-typed")
        pane.keys("Enter")
        pane.wait("half-typed", "an unsaved summary")
        os.kill(pane.pane_pid(), signal.SIGKILL)
        tk.wait_until(pane.dead, "trackle to be gone")
        after = rpc({"op": "ticket.show", "id": new[0]["id"]})["ticket"]
        t.expect(after["summary"] == "printer on fire" and after["lock"] is None,
                 "the killed screen stored nothing and holds no lock", after)
    finally:
        pane.kill()
        with open(fifo, "w") as f:
            f.write("done\n")
        holder.join(60)


tk.run(main)
