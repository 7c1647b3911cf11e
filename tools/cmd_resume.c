/*
 * cmd_resume.c - `vmpack resume FILE.vmpk`: bring a suspended guest back
 * where it stopped, with the console reattached (cmd_run.c does the work;
 * spec/snapshot.md 3).
 */
#include "cli_run.h"

int cmd_resume(int argc, char **argv);

int cmd_resume(int argc, char **argv)
{
    return cli_run_guest("resume", argc, argv, 1);
}
