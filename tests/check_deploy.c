/* check_deploy.c — the deployment checks that run without a container engine or a
 * cluster, as scripts run from the checkout root: tests/deploy/lint.py (Dockerfile,
 * compose file, Kubernetes manifests and systemd units parse and reference only flags,
 * MONAS_* variables, ports, paths and metrics that exist) and tests/netns/multihost.sh
 * (monasd and two workers in separate network namespaces). Each script prints what it
 * checked, SKIP lines when the machine cannot run it, and exits 0 when it passed. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs argv; after `seconds` sends SIGTERM (the scripts clean up on it), then SIGKILL
 * 10 s later. Returns the exit status, or -1 if it had to be stopped or died by a
 * signal. */
static int run_script(char *const argv[], int seconds)
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s\n", argv[0]);
        _exit(127);
    }
    ck_assert_int_gt(pid, 0);
    struct timespec start, now, tick = {0, 50 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0, sent = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        ck_assert_msg(r == 0 || errno == EINTR, "waitpid failed");
        clock_gettime(CLOCK_MONOTONIC, &now);
        double t = (double)(now.tv_sec - start.tv_sec);
        if (t > seconds && sent == 0) {
            kill(pid, SIGTERM);
            sent = 1;
        } else if (t > seconds + 10 && sent == 1) {
            kill(pid, SIGKILL);
            sent = 2;
        }
        nanosleep(&tick, NULL);
    }
    if (sent || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static char *bin_dir(void)
{
    char *d = getenv("MONAS_BIN_DIR");
    return d ? d : "build";
}

/* Debian's interpreter (python3-yaml), not whatever python3 comes first on PATH. */
static char *python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

START_TEST(deploy_lint)
{
    char *argv[] = {python(), "tests/deploy/lint.py", bin_dir(), NULL};
    int rc = run_script(argv, 50);
    ck_assert_msg(rc == 0, "tests/deploy/lint.py failed (status %d): see its output", rc);
}
END_TEST

START_TEST(netns_multihost)
{
    char *argv[] = {"tests/netns/multihost.sh", bin_dir(), NULL};
    int rc = run_script(argv, 120);
    ck_assert_msg(rc == 0, "tests/netns/multihost.sh failed (status %d): see its output", rc);
}
END_TEST

Suite *deploy_suite(void)
{
    Suite *s = suite_create("deploy");
    TCase *tc = tcase_create("lint");
    tcase_add_test(tc, deploy_lint);
    tcase_set_timeout(tc, 70);
    suite_add_tcase(s, tc);
    tc = tcase_create("netns");
    tcase_add_test(tc, netns_multihost);
    tcase_set_timeout(tc, 140);
    suite_add_tcase(s, tc);
    return s;
}
