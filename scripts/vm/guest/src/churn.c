/*
 * churn: key churn for hist tables in the test guest (built static by build-initramfs as
 * /bin/churn). Each mode makes the kernel see a stream of keys it has not seen before, so
 * that a table keyed on them gains one entry per operation until it is full.
 *
 *   churn threads N [--fifo] [--fsync FILE] [--batch B] [--rate R]
 *       N short-lived threads in all, at most B (default 64) alive at once, and with --rate at
 *       most R started a second (paced from the start, so a slow moment is made up after). Each sleeps once
 *       for 100 us and exits: its timer wakes it exactly once, so every thread is one
 *       sched_waking of a new tid and one sched_switch to it. A new thread's first run comes
 *       from wake_up_new_task (sched_wakeup_new), not from sched_waking. With --fifo each
 *       thread runs SCHED_FIFO priority 10, i.e. it is a real-time wakeup (prio < 100). With
 *       --fsync each thread first calls fsync(2) on FILE once: one call of vfs_fsync_range from
 *       a new tid.
 *       New tids only stay new if pid_max is large (4194304 on systemd hosts); at the
 *       kernel's default of 32768 they wrap and repeat.
 *
 *   churn sectors N DEVICE [--block BYTES]
 *       N O_DIRECT preads of BYTES (default 4096) at uniformly random block-aligned offsets over
 *       the whole device, so nearly every request has a sector not seen before.
 *
 *   churn fsyncs N FILE
 *       N fsync(2) calls on FILE (created or truncated), one byte written before each: a steady
 *       stream of calls for a probe on vfs_fsync_range, from one thread, with no new keys.
 *
 *   churn cgroups N PARENT [--sleeps S]
 *       N short-lived cgroups v2, made one after another under the directory PARENT: the
 *       process moves itself into each (cgroup.procs), sleeps S times (default 8) for 50 us to
 *       about 1 ms, moves back to the cgroup it started in and removes it. Each sleep is one
 *       wakeup in a cgroup that did not exist before, so a table keyed by cgroup id gains an
 *       entry per latency bucket the sleeps hit, without a fork per cgroup.
 *
 * Prints one line at the end: "churn: MODE N in S.SSS s (R per s)". Exits 2 on bad arguments,
 * 1 on a failed system call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr,
		"usage: churn threads N [--fifo] [--fsync FILE] [--batch B] [--rate R]\n"
		"       churn sectors N DEVICE [--block BYTES]\n"
		"       churn fsyncs N FILE\n"
		"       churn cgroups N PARENT [--sleeps S]\n");
	exit(2);
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(err));
	exit(1);
}

static long parse_count(const char *s, long min)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		usage();
	return v;
}

static double now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fail("clock_gettime", errno);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *mode, long n, double secs)
{
	printf("churn: %s %ld in %.3f s (%.0f per s)\n", mode, n, secs, secs > 0 ? n / secs : 0.0);
}

/* The file the threads fsync with --fsync, or -1. */
static int fsync_fd = -1;

static void *sleeper(void *arg)
{
	(void)arg;
	if (fsync_fd >= 0 && fsync(fsync_fd) != 0)
		fail("fsync", errno);
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000 };
	/* EINTR is not expected (no signal handlers); one more sleep would be a second wakeup. */
	if (nanosleep(&ts, NULL) != 0)
		fail("nanosleep", errno);
	return NULL;
}

static int run_threads(int argc, char **argv)
{
	if (argc < 1)
		usage();
	long n = parse_count(argv[0], 1);
	long batch = 64;
	long rate = 0;
	int fifo = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fifo") == 0)
			fifo = 1;
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = parse_count(argv[++i], 1);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = parse_count(argv[++i], 1);
		else if (strcmp(argv[i], "--fsync") == 0 && i + 1 < argc) {
			fsync_fd = open(argv[++i], O_WRONLY | O_CREAT, 0600);
			if (fsync_fd < 0)
				fail("open (--fsync)", errno);
		} else
			usage();
	}

	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);
	if (rc != 0)
		fail("pthread_attr_init", rc);
	/* Small stacks: glibc caches freed stacks, but a window of B threads still maps B of them. */
	if ((rc = pthread_attr_setstacksize(&attr, 64 * 1024)) != 0)
		fail("pthread_attr_setstacksize", rc);
	if (fifo) {
		struct sched_param sp = { .sched_priority = 10 };
		if ((rc = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED)) != 0)
			fail("pthread_attr_setinheritsched", rc);
		if ((rc = pthread_attr_setschedpolicy(&attr, SCHED_FIFO)) != 0)
			fail("pthread_attr_setschedpolicy(SCHED_FIFO)", rc);
		if ((rc = pthread_attr_setschedparam(&attr, &sp)) != 0)
			fail("pthread_attr_setschedparam(10)", rc);
	}

	pthread_t *ring = calloc((size_t)batch, sizeof *ring);
	if (ring == NULL)
		fail("calloc", errno);
	/*
	 * A sliding window rather than create-B-then-join-B: the oldest thread is joined before
	 * its slot is reused, so B are alive at most and creation never waits for a whole batch.
	 */
	double t0 = now();
	long alive = 0;
	for (long i = 0; i < n; i++) {
		long slot = i % batch;
		if (rate > 0) {
			double wait = t0 + (double)i / (double)rate - now();
			if (wait > 0) {
				struct timespec ts = { .tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (time_t)wait) * 1e9) };
				while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
					;
			}
		}
		if (alive == batch) {
			if ((rc = pthread_join(ring[slot], NULL)) != 0)
				fail("pthread_join", rc);
			alive--;
		}
		if ((rc = pthread_create(&ring[slot], &attr, sleeper, NULL)) != 0)
			fail(fifo ? "pthread_create (SCHED_FIFO 10)" : "pthread_create", rc);
		alive++;
	}
	for (long i = n - alive; i < n; i++) {
		if ((rc = pthread_join(ring[i % batch], NULL)) != 0)
			fail("pthread_join", rc);
	}
	double secs = now() - t0;
	pthread_attr_destroy(&attr);
	free(ring);
	report("threads", n, secs);
	return 0;
}

/* xorshift64*: uniform enough for offsets, and no libc state shared with anything else. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static int run_sectors(int argc, char **argv)
{
	if (argc < 2)
		usage();
	long n = parse_count(argv[0], 1);
	const char *dev = argv[1];
	long block = 4096;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--block") == 0 && i + 1 < argc)
			block = parse_count(argv[++i], 512);
		else
			usage();
	}
	if (block % 512 != 0) {
		fprintf(stderr, "churn: --block must be a multiple of 512\n");
		exit(2);
	}

	int fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		char what[512];
		snprintf(what, sizeof what, "open %s (O_DIRECT)", dev);
		fail(what, errno);
	}
	uint64_t size = 0;
	if (ioctl(fd, BLKGETSIZE64, &size) != 0)
		fail("ioctl BLKGETSIZE64", errno);
	uint64_t blocks = size / (uint64_t)block;
	if (blocks == 0) {
		fprintf(stderr, "churn: %s has %llu bytes, less than one block of %ld\n", dev,
			(unsigned long long)size, block);
		exit(1);
	}
	void *buf;
	int rc = posix_memalign(&buf, 4096, (size_t)block);
	if (rc != 0)
		fail("posix_memalign", rc);

	struct timespec seed;
	clock_gettime(CLOCK_REALTIME, &seed);
	rng_state = ((uint64_t)seed.tv_sec * 1000000007ULL) ^ (uint64_t)seed.tv_nsec ^ ((uint64_t)getpid() << 32);
	if (rng_state == 0)
		rng_state = 1;

	double t0 = now();
	for (long i = 0; i < n; i++) {
		off_t off = (off_t)(rng_next() % blocks) * block;
		ssize_t got = pread(fd, buf, (size_t)block, off);
		if (got < 0)
			fail("pread", errno);
		if (got != block) {
			fprintf(stderr, "churn: pread at %lld returned %zd bytes, not %ld\n", (long long)off, got, block);
			exit(1);
		}
	}
	double secs = now() - t0;
	close(fd);
	free(buf);
	report("sectors", n, secs);
	return 0;
}

static int run_fsyncs(int argc, char **argv)
{
	if (argc != 2)
		usage();
	long n = parse_count(argv[0], 1);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fail("open", errno);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		if (write(fd, "x", 1) != 1)
			fail("write", errno);
		if (fsync(fd) != 0)
			fail("fsync", errno);
	}
	double secs = now() - t0;
	close(fd);
	report("fsyncs", n, secs);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		fail(path, errno);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail(path, errno);
	close(fd);
}

static int run_cgroups(int argc, char **argv)
{
	if (argc != 2 && argc != 4)
		usage();
	long n = parse_count(argv[0], 1);
	const char *parent = argv[1];
	long sleeps = 8;
	if (argc == 4) {
		if (strcmp(argv[2], "--sleeps") != 0)
			usage();
		sleeps = parse_count(argv[3], 1);
	}
	/* The cgroup this process started in, to come back to: "0::/path" in /proc/self/cgroup. */
	char home[4096] = "/sys/fs/cgroup";
	FILE *self = fopen("/proc/self/cgroup", "r");
	char line[4000];
	if (self && fgets(line, sizeof line, self) && strncmp(line, "0::", 3) == 0) {
		line[strcspn(line, "\n")] = 0;
		snprintf(home, sizeof home, "/sys/fs/cgroup%s", strcmp(line + 3, "/") == 0 ? "" : line + 3);
	}
	if (self)
		fclose(self);
	char homeProcs[4200];
	snprintf(homeProcs, sizeof homeProcs, "%s/cgroup.procs", home);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		char dir[4200], procs[4300];
		snprintf(dir, sizeof dir, "%s/churn-%ld-%ld", parent, (long)getpid(), i);
		snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
		if (mkdir(dir, 0755) != 0)
			fail("mkdir", errno);
		write_text(procs, "0");
		for (long k = 0; k < sleeps; k++) {
			long us = 50L << ((i + k) % 5);
			struct timespec ts = { 0, us * 1000 };
			nanosleep(&ts, NULL);
		}
		write_text(homeProcs, "0");
		if (rmdir(dir) != 0)
			fail("rmdir", errno);
	}
	report("cgroups", n, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "threads") == 0)
		return run_threads(argc - 2, argv + 2);
	if (strcmp(argv[1], "sectors") == 0)
		return run_sectors(argc - 2, argv + 2);
	if (strcmp(argv[1], "fsyncs") == 0)
		return run_fsyncs(argc - 2, argv + 2);
	if (strcmp(argv[1], "cgroups") == 0)
		return run_cgroups(argc - 2, argv + 2);
	usage();
	return 2;
}
