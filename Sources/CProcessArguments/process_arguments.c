#include "process_arguments.h"

// For __GLIBC__ (features.h).
#include <unistd.h>

static int saved_count;
static char *const *saved_vector;

#if defined(__GLIBC__)
// glibc calls the functions of .init_array with argc, argv and envp. Swift's CommandLine reads
// /proc/self/cmdline on Linux instead, and where /proc is not mounted (a chroot, a minimal
// container) it finds no arguments: every flag would be ignored, --check-config and --once
// included. (musl calls these functions without arguments.)
__attribute__((constructor)) static void save_process_arguments(int count, char **vector, char **environment) {
    (void)environment;
    saved_count = count;
    saved_vector = vector;
}
#endif

int process_argument_count(void) { return saved_count; }

char *const *process_argument_vector(void) { return saved_vector; }
