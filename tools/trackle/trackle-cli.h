/* trackle-cli.h - trackle's screen (trackle(1), "THE SCREEN"): `trackle` with no arguments on
 * a terminal. ncurses, UTF-8, 80x24 and larger. */
#pragma once

/* Runs the screen until the admin quits; returns the exit status. exe: the trackle binary
 * itself, for `trackle shell`. */
int trackle_cli_main(const char *exe);
