/* main.c — monas-worker entry point: dispatches to its subcommands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "monas-worker: not built yet\n");
    return 1;
}
