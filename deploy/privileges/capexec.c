/* capexec UID CAPLIST CMD...: run CMD as UID (gid = UID, no supplementary groups) with exactly
 * the capabilities in CAPLIST (comma-separated numbers, or "none") in its permitted, effective,
 * inheritable, ambient and bounding sets. For uid 0 an empty bounding set means the exec'd
 * program gets no capability either. Helper of deploy/privileges/run; build:
 *   gcc -static -O2 -o capexec capexec.c */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
static void die(const char *w) { perror(w); exit(126); }
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: capexec UID CAPLIST CMD...\n"); return 2; }
    uid_t uid = (uid_t)atoi(argv[1]);
    unsigned long long want = 0;
    if (strcmp(argv[2], "none") != 0) {
        char *s = strdup(argv[2]), *tok;
        for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) want |= 1ULL << atoi(tok);
    }
    int last = 40;
    for (int c = 0; c <= 63; c++) { if (prctl(PR_CAPBSET_READ, c) < 0) { last = c - 1; break; } }
    if (prctl(PR_SET_KEEPCAPS, 1) < 0) die("keepcaps");
    if (setgroups(0, NULL) < 0) die("setgroups");
    if (setresgid(uid, uid, uid) < 0) die("setresgid");
    if (setresuid(uid, uid, uid) < 0) die("setresuid");
    /* dropping from the bounding set needs CAP_SETPCAP in the effective set, which the uid
     * change cleared; KEEPCAPS kept it permitted, so raise the permitted set first */
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) die("capget");
    d[0].effective = d[0].permitted; d[1].effective = d[1].permitted;
    if (syscall(SYS_capset, &h, d) < 0) die("capset raise");
    for (int c = 0; c <= last; c++)
        if (!(want & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c) < 0) die("bset drop");
    memset(d, 0, sizeof d);
    d[0].permitted = d[0].effective = d[0].inheritable = (unsigned)(want & 0xffffffffULL);
    d[1].permitted = d[1].effective = d[1].inheritable = (unsigned)(want >> 32);
    if (syscall(SYS_capset, &h, d) < 0) die("capset");
    for (int c = 0; c <= last; c++)
        if ((want & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) die("ambient");
    execvp(argv[3], argv + 3);
    die("exec");
}
