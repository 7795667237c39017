/* main.c — monasd entry point (the coordinator lands with its own issue). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "monasd: not built yet\n");
    return 1;
}
