/*
 * cli_run.h - running a container's guest, shared by `vmpack run` and
 * `vmpack resume` (cmd_run.c).
 */
#ifndef VMP_CLI_RUN_H
#define VMP_CLI_RUN_H

/* The subcommand cmd ("run" or "resume"): argv as for cmd_run. With
 * resume_only, a powered-off container is refused. Returns the exit status. */
int cli_run_guest(const char *cmd, int argc, char **argv, int resume_only);

#endif
