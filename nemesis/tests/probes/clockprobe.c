/* clockprobe.c: the C probe of the vDSO clock tests, built static (gcc -static) so no
 * libfaketime could ever reach it; static glibc still calls the vDSO.
 *
 *   clockprobe         every 10 ms: "wall=<ns> mono=<ns> gtod_us=<us> time_s=<s>"
 *   clockprobe bench   every ~200 ms: "ns_per_call=<ns>" of clock_gettime(CLOCK_REALTIME)
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static long long ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        for (;;) {
            const long n = 200000;
            long long sink = 0, start = ns(CLOCK_MONOTONIC);
            for (long i = 0; i < n; i++) sink += ns(CLOCK_REALTIME) & 1;
            long long el = ns(CLOCK_MONOTONIC) - start;
            printf("ns_per_call=%.1f sink=%lld\n", (double)el / n, sink);
        }
    }
    for (;;) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        printf("wall=%lld mono=%lld gtod_us=%lld time_s=%lld\n", ns(CLOCK_REALTIME),
               ns(CLOCK_MONOTONIC), (long long)tv.tv_sec * 1000000LL + tv.tv_usec,
               (long long)time(NULL));
        struct timespec d = {0, 10 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}
